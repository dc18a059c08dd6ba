#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "test_env.h"
#include "wg/core/file.h"
#include "wg/core/strings.h"
#include "wg/evidence/evidence.h"
#include "wg/ledger/checkpoint.h"

namespace wg::evidence {
namespace {

using testing::Draft;
using testing::Env;

class EvidenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.dir = testing::MakeTempDir("wg-evidence");
    ASSERT_FALSE(env_.dir.empty());
    ASSERT_TRUE(env_.Open().ok());
    auto org = env_.store->CreateOrganization({"plant-a", "A"}, {Draft("org.created", "org:plant-a")});
    ASSERT_TRUE(org.has_value());
    org_ = org->id;
  }

  void Append(int n, const std::string& subject = "thing:1") {
    store::FactDrafts facts;
    for (int i = 0; i < n; ++i) {
      facts.push_back(Draft("test.event", subject, "{\"i\":" + std::to_string(i) + "}"));
    }
    ASSERT_TRUE(env_.store->AppendFacts(org_, facts).ok());
  }

  // Runs SQL against the database behind the store's back (tampering).
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((env_.dir + "/wg.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  Env env_;
  core::OrgId org_;
};

TEST_F(EvidenceTest, SyncCopiesTheOutboxInOrderAndIsIdempotent) {
  Append(5);
  auto size = env_.ev->Sync(org_);
  ASSERT_TRUE(size.has_value()) << size.error().ToString();
  EXPECT_EQ(*size, 6u);  // org.created + 5
  EXPECT_EQ(*env_.ev->Sync(org_), 6u);
  auto rows = env_.store->FactsFrom(org_, 0, 100);
  ASSERT_TRUE(rows.has_value());
  auto proof = env_.ev->Prove(org_, 3);
  ASSERT_TRUE(proof.has_value()) << proof.error().ToString();
  EXPECT_EQ(proof->entry, EncodeFact(FromStored((*rows)[3], "plant-a")));
  EXPECT_EQ(proof->fact.kind, "test.event");
  // Prove signed a checkpoint, which created the organization's key: "key.created".
  auto rep = env_.ev->Verify(org_);
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  EXPECT_EQ(rep->log_size, 7u);
  EXPECT_EQ(rep->outbox_size, 7);
  EXPECT_EQ(env_.ev->Prove(org_, 6)->fact.kind, "key.created");
}

TEST_F(EvidenceTest, CheckpointsAreSignedConsistentAndProveFacts) {
  Append(3);
  auto c1 = env_.ev->Checkpoint(org_);
  ASSERT_TRUE(c1.has_value()) << c1.error().ToString();
  EXPECT_EQ(*env_.ev->Checkpoint(org_), *c1) << "no growth, no new checkpoint";
  Append(10);
  auto c2 = env_.ev->Checkpoint(org_);
  ASSERT_TRUE(c2.has_value());
  EXPECT_NE(*c2, *c1);
  auto n1 = ledger::ParseNote(*c1);
  auto n2 = ledger::ParseNote(*c2);
  ASSERT_TRUE(n1 && n2);
  auto cp1 = ledger::ParseCheckpointBody(n1->text);
  auto cp2 = ledger::ParseCheckpointBody(n2->text);
  ASSERT_TRUE(cp1 && cp2);
  // key.created was recorded when the first checkpoint needed a key.
  EXPECT_EQ(cp1->size, 5u);
  EXPECT_EQ(cp2->size, 15u);
  EXPECT_EQ(cp1->origin, "workguard.test/ev/plant-a");
  auto key = env_.keys->Current("plant-a");
  ASSERT_TRUE(key.has_value());
  auto verifier = ledger::NoteKey::FromVerifierKey(key->vkey);
  ASSERT_TRUE(verifier.has_value());
  EXPECT_TRUE(verifier->Verify(*n2).ok());
  auto cons = env_.ev->Consistency(org_, cp1->size, cp2->size);
  ASSERT_TRUE(cons.has_value());
  EXPECT_TRUE(ledger::VerifyConsistency(ledger::HashAlg::kSm3, cp1->size, cp2->size, cp1->root,
                                        cp2->root, *cons)
                  .ok());
  // A proof against the older checkpoint verifies against its root.
  auto p = env_.ev->Prove(org_, 2, cp1->size);
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_TRUE(ledger::VerifyInclusion(ledger::HashAlg::kSm3, 2, cp1->size,
                                      ledger::HashLeaf(ledger::HashAlg::kSm3, p->entry), p->proof,
                                      cp1->root)
                  .ok());
  EXPECT_EQ(env_.ev->Prove(org_, 7, cp1->size).error().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(env_.ev->Prove(org_, 0, 9).error().code(), core::StatusCode::kNotFound);
  auto rep = env_.ev->Verify(org_);
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  EXPECT_EQ(rep->checkpoints, 2u);
}

TEST_F(EvidenceTest, CosignaturesMergeIntoTheStoredCheckpoint) {
  Append(2);
  auto c = env_.ev->Checkpoint(org_);
  ASSERT_TRUE(c.has_value());
  auto reg_key = crypto::Sm2PrivateKey::Generate();
  ASSERT_TRUE(reg_key.has_value());
  auto regulator = ledger::NoteKey::ForSigning("regulator.test/sh", *reg_key);
  ASSERT_TRUE(regulator.has_value());
  auto note = ledger::ParseNote(*c);
  ASSERT_TRUE(note.has_value());
  ASSERT_TRUE(regulator->Sign(&*note).ok());
  ASSERT_TRUE(env_.ev->AddCosignatures(org_, ledger::FormatNote(*note)).ok());
  auto latest = env_.ev->LatestCheckpoint(org_);
  ASSERT_TRUE(latest.has_value());
  auto parsed = ledger::ParseNote(*latest);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->signatures.size(), 2u);
  EXPECT_TRUE(regulator->Verify(*parsed).ok());
  // A note about another tree is refused.
  ledger::SignedNote other{.text = "workguard.test/ev/plant-a\n99\n" +
                                   std::string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"),
                           .signatures = {}};
  ASSERT_TRUE(regulator->Sign(&other).ok());
  EXPECT_EQ(env_.ev->AddCosignatures(org_, ledger::FormatNote(other)).code(),
            core::StatusCode::kNotFound);
  EXPECT_TRUE(env_.ev->Verify(org_).has_value());
}

// Regression: co-signing an older checkpoint appended it to checkpoints.log after the
// newer one, so it read back as the latest.
TEST_F(EvidenceTest, CosigningAnOlderCheckpointKeepsTheLatestLatest) {
  Append(1);
  auto c1 = env_.ev->Checkpoint(org_);
  ASSERT_TRUE(c1.has_value());
  Append(1);
  auto c2 = env_.ev->Checkpoint(org_);
  ASSERT_TRUE(c2.has_value());
  auto reg_key = crypto::Sm2PrivateKey::Generate();
  auto regulator = ledger::NoteKey::ForSigning("regulator.test/sh", *reg_key);
  auto note = ledger::ParseNote(*c1);
  ASSERT_TRUE(regulator->Sign(&*note).ok());
  ASSERT_TRUE(env_.ev->AddCosignatures(org_, ledger::FormatNote(*note)).ok());
  for (int reopen = 0; reopen < 2; ++reopen) {
    EXPECT_EQ(*env_.ev->LatestCheckpoint(org_), *c2) << "reopen " << reopen;
    auto old_size = ledger::ParseCheckpointBody(note->text)->size;
    auto cosigned = ledger::ParseNote(*env_.ev->CheckpointAt(org_, old_size));
    ASSERT_TRUE(cosigned.has_value());
    EXPECT_EQ(cosigned->signatures.size(), 2u);
    EXPECT_EQ(env_.ev->Verify(org_)->checkpoints, 2u);
    ASSERT_TRUE(env_.Open().ok());
  }
}

TEST_F(EvidenceTest, KeyRotationIsAFactAndOldCheckpointsStillVerify) {
  Append(1);
  ASSERT_TRUE(env_.ev->Checkpoint(org_).has_value());
  auto k2 = env_.ev->RotateKey(org_, "user:admin");
  ASSERT_TRUE(k2.has_value()) << k2.error().ToString();
  Append(1);
  auto c = env_.ev->Checkpoint(org_);
  ASSERT_TRUE(c.has_value());
  EXPECT_NE(c->find("/plant-a/k2 "), std::string::npos) << *c;
  auto facts = env_.store->FactsAbout(org_, "key:plant-a", 0, 10);
  ASSERT_TRUE(facts.has_value());
  ASSERT_EQ(facts->size(), 2u);
  EXPECT_EQ((*facts)[0].kind, "key.created");
  EXPECT_EQ((*facts)[1].kind, "key.rotated");
  EXPECT_NE((*facts)[1].payload.find(k2->vkey), std::string::npos);
  auto rep = env_.ev->Verify(org_);
  ASSERT_TRUE(rep.has_value()) << rep.error().ToString();
  EXPECT_EQ(rep->checkpoints, 2u);
}

TEST_F(EvidenceTest, AnEditedOutboxRowIsDetected) {
  Append(4);
  ASSERT_TRUE(env_.ev->Sync(org_).has_value());
  env_.Close();
  Sql("UPDATE facts SET payload = '{\"i\":99}' WHERE seq = 2");
  ASSERT_TRUE(env_.Open().ok());
  auto rep = env_.ev->Verify(org_);
  ASSERT_FALSE(rep.has_value());
  EXPECT_EQ(rep.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(rep.error().message().find("fact 2 "), std::string::npos) << rep.error().message();
}

TEST_F(EvidenceTest, ADatabaseRestoredFromAnOlderCopyIsRefused) {
  Append(2);
  ASSERT_TRUE(env_.ev->Sync(org_).has_value());
  env_.Close();
  std::filesystem::copy_file(env_.dir + "/wg.db", env_.dir + "/old.db");
  ASSERT_TRUE(env_.Open().ok());
  Append(3);
  ASSERT_EQ(*env_.ev->Sync(org_), 6u);
  env_.Close();
  std::filesystem::rename(env_.dir + "/old.db", env_.dir + "/wg.db");
  std::filesystem::remove(env_.dir + "/wg.db-wal");
  std::filesystem::remove(env_.dir + "/wg.db-shm");
  ASSERT_TRUE(env_.Open().ok());
  auto s = env_.ev->Sync(org_);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(s.error().message().find("6 facts"), std::string::npos) << s.error().message();
}

TEST_F(EvidenceTest, ASecondProcessQueuesFactsForTheLogOwner) {
  Append(1);
  ASSERT_TRUE(env_.ev->Sync(org_).has_value());
  // Another Evidence over the same files stands in for the CLI while the server runs.
  auto other = Evidence::Open({.ledger_dir = env_.dir + "/ledger", .sync = false}, *env_.store,
                              *env_.keys, env_.clock);
  ASSERT_TRUE(other.has_value());
  Append(2);
  auto s = (*other)->Sync(org_);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), core::StatusCode::kUnavailable);
  EXPECT_EQ((*other)->Checkpoint(org_).error().code(), core::StatusCode::kUnavailable);
  // org.created, 1 + 2 events, and key.created (the other's checkpoint attempt made the key).
  EXPECT_EQ(*env_.ev->Sync(org_), 5u) << "the owner appends what the other queued";
}

// Kills a writer at random moments; after every restart the log and the store agree, every
// fact acknowledged as durable is present, and every projection row has its fact.
TEST_F(EvidenceTest, CrashLoopKeepsLogAndProjectionInAgreement) {
  env_.Close();
  std::mt19937 rng(20261129);
  std::set<std::uint64_t> acked;
  int next_worker = 0;
  for (int round = 0; round < 12; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const int first = next_worker;
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      Env child;
      child.dir = env_.dir;
      if (!child.Open(/*sync=*/true).ok()) _exit(3);
      for (int i = first;; ++i) {
        domain::Worker w;
        w.org_id = org_;
        w.code = "W" + std::to_string(i);
        w.name = "n";
        w.id_salt = w.id_digest = "00";
        w.id_last4 = "0000";
        auto r = child.store->CreateWorker(
            w, {Draft("worker.registered", "worker:" + w.code, "{\"code\":\"" + w.code + "\"}")});
        if (!r) _exit(4);
        auto size = child.ev->Sync(org_);
        if (!size) _exit(5);
        std::uint64_t durable = *size;
        if (write(fds[1], &durable, sizeof durable) != sizeof durable) _exit(6);
      }
    }
    close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 60));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    std::uint64_t durable = 0;
    while (read(fds[0], &durable, sizeof durable) == sizeof durable) acked.insert(durable);
    close(fds[0]);

    ASSERT_TRUE(env_.Open().ok());
    ASSERT_TRUE(env_.ev->SyncAll().ok());
    auto count = env_.store->FactCount(org_);
    ASSERT_TRUE(count.has_value());
    auto rep = env_.ev->Verify(org_);
    ASSERT_TRUE(rep.has_value()) << "round " << round << ": " << rep.error().ToString();
    EXPECT_EQ(rep->log_size, static_cast<std::uint64_t>(*count));
    if (!acked.empty()) {
      EXPECT_GE(rep->log_size, *acked.rbegin()) << "an acknowledged fact was lost";
    }
    // Projection <-> facts: every worker row has its fact and every fact its row.
    auto workers = env_.store->ListWorkers(org_, {.after_id = 0, .limit = 1000});
    ASSERT_TRUE(workers.has_value());
    auto facts = env_.store->FactsFrom(org_, 1, 100000);
    ASSERT_TRUE(facts.has_value());
    ASSERT_EQ(workers->size(), facts->size()) << "round " << round;
    for (std::size_t i = 0; i < workers->size(); ++i) {
      EXPECT_EQ((*facts)[i].subject, "worker:" + (*workers)[i].code);
    }
    next_worker = 100000 * (round + 1);
    env_.Close();
  }
  EXPECT_FALSE(acked.empty()) << "the writer never got going";
}

}  // namespace
}  // namespace wg::evidence
