// Supervision (the regulator's engine) over in-memory enterprise logs: every decision
// paired with its tampered counterpart, and the state directory across restarts, torn
// tails and damage.

#include "wg/regulator/supervision.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_log.h"
#include "wg/core/clock.h"
#include "wg/regulator/wire.h"

namespace wg::regulator {
namespace {

using testing::NewKey;
using testing::TestLog;

constexpr char kOrigin[] = "workguard.test/ab12/plant-a";
constexpr char kOtherOrigin[] = "workguard.test/ab12/plant-b";

class SupervisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wg-reg-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Reopen();
    token_ = Enroll(kOrigin, key_);
  }
  void TearDown() override {
    sup_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Reopen() {
    sup_.reset();
    auto s = Supervision::Open({.dir = dir_, .key_name = "regulator.test/anquan", .sync = false},
                               clock_);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    sup_ = std::move(s).value();
  }

  std::string Enroll(const std::string& origin, const ledger::NoteKey& key) {
    auto t = sup_->Enroll(origin, ledger::HashAlg::kSm3, {key.VerifierKey()});
    EXPECT_TRUE(t.has_value()) << t.error().ToString();
    return t.value_or("");
  }

  Decision Submit(const Submission& s, const std::string& origin = kOrigin) {
    auto d = sup_->Submit(origin, s);
    EXPECT_TRUE(d.has_value()) << d.error().ToString();
    return d.value_or(Decision{});
  }

  // Accepts log_ at `size` (from the currently accepted size `from`).
  void Accept(std::uint64_t from, std::uint64_t size) {
    Decision d = Submit(log_.Grow(key_, from, size));
    ASSERT_EQ(d.reason, Reason::kAccepted) << d.detail;
    ASSERT_EQ(d.accepted_size, size);
  }

  std::string dir_;
  core::FakeClock clock_{core::Timestamp::FromSeconds(1'796'000'000)};
  std::unique_ptr<Supervision> sup_;
  ledger::NoteKey key_ = NewKey(std::string(kOrigin) + "/k1");
  TestLog log_{kOrigin};
  std::string token_;
};

TEST_F(SupervisionTest, AcceptsFirstCheckpointAndCosignsIt) {
  log_.AddN(3, "a");
  Decision d = Submit(log_.Grow(key_, 0, 3));
  ASSERT_EQ(d.reason, Reason::kAccepted) << d.detail;
  EXPECT_TRUE(d.accepted());
  EXPECT_EQ(d.accepted_size, 3u);
  EXPECT_EQ(d.leaves_held, 3u);
  EXPECT_NE(d.detail.find("first checkpoint"), std::string::npos) << d.detail;

  // The co-signed note keeps the enterprise's line and adds the regulator's.
  auto note = ledger::ParseNote(d.cosigned_note);
  ASSERT_TRUE(note.has_value());
  EXPECT_TRUE(key_.Verify(*note).ok());
  auto reg = ledger::NoteKey::FromVerifierKey(sup_->VerifierKey());
  ASSERT_TRUE(reg.has_value());
  EXPECT_EQ(reg->name(), "regulator.test/anquan");
  EXPECT_TRUE(reg->Verify(*note).ok());

  auto e = sup_->Enterprise(kOrigin);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->size, 3u);
  EXPECT_EQ(e->root, log_.Root(3));
  EXPECT_EQ(e->checkpoint, d.cosigned_note);
}

TEST_F(SupervisionTest, AcceptsConsistentGrowthAndRetries) {
  log_.AddN(10, "a");
  Accept(0, 3);
  Accept(3, 10);
  // The same checkpoint again (a retry) changes nothing and is answered with the held note.
  Decision again = Submit(log_.Grow(key_, 10, 10));
  EXPECT_EQ(again.reason, Reason::kUnchanged) << again.detail;
  EXPECT_TRUE(again.accepted());
  EXPECT_EQ(again.cosigned_note, sup_->Enterprise(kOrigin)->checkpoint);
  // Growth without leaf hashes is accepted too; the leaves follow later.
  log_.AddN(5, "a");
  Decision d = Submit(log_.Grow(key_, 10, 15, /*with_leaves=*/false));
  EXPECT_EQ(d.reason, Reason::kAccepted) << d.detail;
  EXPECT_EQ(d.leaves_held, 10u);
  EXPECT_NE(d.detail.find("leaf hashes 0..10 held of 15"), std::string::npos) << d.detail;
  Submission rest;
  rest.note = log_.Note(key_, 15);
  rest.leaves = log_.Leaves(10, 15);
  Decision filled = Submit(rest);
  EXPECT_EQ(filled.reason, Reason::kUnchanged) << filled.detail;
  EXPECT_EQ(filled.leaves_held, 15u);
  EXPECT_NE(filled.detail.find("give its root"), std::string::npos) << filled.detail;
}

TEST_F(SupervisionTest, RollbackIsRefusedWithAnAlert) {
  log_.AddN(8, "a");
  Accept(0, 8);
  Submission smaller;
  smaller.note = log_.Note(key_, 5);
  Decision d = Submit(smaller);
  EXPECT_EQ(d.reason, Reason::kRollback);
  EXPECT_FALSE(d.accepted());
  ASSERT_TRUE(d.alert_id.has_value());
  EXPECT_EQ(d.accepted_size, 8u);
  auto alerts = sup_->Alerts();
  ASSERT_TRUE(alerts.has_value());
  ASSERT_EQ(alerts->size(), 1u);
  const Alert& a = alerts->front();
  EXPECT_EQ(a.id, *d.alert_id);
  EXPECT_EQ(a.kind, AlertKind::kRollback);
  EXPECT_EQ(a.origin, kOrigin);
  EXPECT_EQ(a.time, clock_.Now());
  EXPECT_EQ(a.submitted_checkpoint, smaller.note);
  EXPECT_EQ(a.held_checkpoint, sup_->Enterprise(kOrigin)->checkpoint);
  EXPECT_EQ(sup_->Enterprise(kOrigin)->size, 8u);  // the accepted checkpoint stays
  EXPECT_EQ(sup_->Enterprise(kOrigin)->alerts, 1u);
}

TEST_F(SupervisionTest, SameSizeOtherRootIsAFork) {
  log_.AddN(6, "a");
  Accept(0, 6);
  TestLog other(kOrigin);
  other.AddN(6, "b");
  Submission s;
  s.note = other.Note(key_, 6);
  Decision d = Submit(s);
  EXPECT_EQ(d.reason, Reason::kFork);
  ASSERT_TRUE(d.alert_id.has_value());
  EXPECT_NE(d.detail.find("different roots"), std::string::npos) << d.detail;
  auto alerts = sup_->Alerts(std::string(kOrigin));
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ(alerts->front().kind, AlertKind::kFork);
  // Both checkpoints, each signed by the enterprise, are kept as evidence.
  auto held = ledger::ParseNote(alerts->front().held_checkpoint);
  auto submitted = ledger::ParseNote(alerts->front().submitted_checkpoint);
  ASSERT_TRUE(held.has_value() && submitted.has_value());
  EXPECT_TRUE(key_.Verify(*held).ok());
  EXPECT_TRUE(key_.Verify(*submitted).ok());
  EXPECT_NE(held->text, submitted->text);
}

TEST_F(SupervisionTest, ForgedOrDivergentConsistencyProofIsAFork) {
  log_.AddN(12, "a");
  Accept(0, 5);
  // A flipped bit in a correct proof.
  Submission forged = log_.Grow(key_, 5, 12, /*with_leaves=*/false);
  ASSERT_FALSE(forged.consistency.empty());
  forged.consistency[0][7] ^= 0x01;
  Decision d = Submit(forged);
  EXPECT_EQ(d.reason, Reason::kFork) << d.detail;
  EXPECT_NE(d.detail.find("consistency proof"), std::string::npos) << d.detail;
  ASSERT_TRUE(d.alert_id.has_value());
  // A proof of the wrong length.
  Submission truncated = log_.Grow(key_, 5, 12, false);
  truncated.consistency.pop_back();
  Decision t = Submit(truncated);
  EXPECT_EQ(t.reason, Reason::kFork);
  // A log that shares nothing with the accepted one, with its own (valid) proof.
  TestLog other(kOrigin);
  other.AddN(12, "b");
  Decision o = Submit(other.Grow(key_, 5, 12, false));
  EXPECT_EQ(o.reason, Reason::kFork);
  // While the accepted checkpoint stays the same, repeated forks name the first alert
  // rather than piling up one per push.
  EXPECT_EQ(t.alert_id, d.alert_id);
  EXPECT_EQ(o.alert_id, d.alert_id);
  EXPECT_NE(o.detail.find("already alert"), std::string::npos) << o.detail;
  EXPECT_EQ(sup_->Alerts()->size(), 1u);
  // Another kind of finding is its own alert.
  Submission smaller;
  smaller.note = log_.Note(key_, 2);
  EXPECT_EQ(Submit(smaller).reason, Reason::kRollback);
  EXPECT_EQ(sup_->Alerts()->size(), 2u);
  // The genuine proof is still accepted afterwards.
  Decision ok = Submit(log_.Grow(key_, 5, 12, false));
  EXPECT_EQ(ok.reason, Reason::kAccepted) << ok.detail;
}

TEST_F(SupervisionTest, ProofFromAnotherSizeIsStaleNotAFork) {
  log_.AddN(9, "a");
  Accept(0, 6);
  Decision d = Submit(log_.Grow(key_, 3, 9, false));
  EXPECT_EQ(d.reason, Reason::kStaleBase);
  EXPECT_EQ(d.field, "old_size");
  EXPECT_EQ(d.accepted_size, 6u);
  EXPECT_FALSE(d.alert_id.has_value());
  EXPECT_TRUE(sup_->Alerts()->empty());
}

TEST_F(SupervisionTest, NoteByAnUnenrolledKeyIsRefused) {
  log_.AddN(3, "a");
  ledger::NoteKey stranger = NewKey(std::string(kOrigin) + "/k1");  // same name, other key
  Decision d = Submit(log_.Grow(stranger, 0, 3));
  EXPECT_EQ(d.reason, Reason::kUnknownKey) << d.detail;
  EXPECT_FALSE(d.accepted());
  EXPECT_FALSE(sup_->Enterprise(kOrigin)->checkpoint.size() > 0);

  // A note whose text was changed after signing: the enrolled key's line fails.
  std::string note = log_.Note(key_, 3);
  auto parsed = ledger::ParseNote(note);
  ASSERT_TRUE(parsed.has_value());
  TestLog other(kOrigin);
  other.AddN(3, "b");
  auto other_parsed = ledger::ParseNote(other.Note(key_, 3));
  parsed->text = other_parsed->text;
  Submission altered;
  altered.note = ledger::FormatNote(*parsed);
  Decision bad = Submit(altered);
  EXPECT_EQ(bad.reason, Reason::kBadSignature) << bad.detail;

  // Garbage is MALFORMED and names the field.
  Submission junk;
  junk.note = "not a note";
  Decision m = Submit(junk);
  EXPECT_EQ(m.reason, Reason::kMalformed);
  EXPECT_EQ(m.field, "checkpoint");
}

TEST_F(SupervisionTest, AddedKeyIsAcceptedAndRecorded) {
  log_.AddN(4, "a");
  Accept(0, 2);
  ledger::NoteKey k2 = NewKey(std::string(kOrigin) + "/k2");
  EXPECT_EQ(Submit(log_.Grow(k2, 2, 4)).reason, Reason::kUnknownKey);
  clock_.Advance(core::Duration::Hours(1));
  ASSERT_TRUE(sup_->AddKey(kOrigin, k2.VerifierKey()).ok());
  EXPECT_EQ(sup_->AddKey(kOrigin, k2.VerifierKey()).code(), core::StatusCode::kAlreadyExists);
  EXPECT_EQ(Submit(log_.Grow(k2, 2, 4)).reason, Reason::kAccepted);
  auto e = sup_->Enterprise(kOrigin);
  ASSERT_EQ(e->keys.size(), 2u);
  EXPECT_EQ(e->keys[1].name, std::string(kOrigin) + "/k2");
  EXPECT_EQ(e->keys[1].added, clock_.Now());
  EXPECT_LT(e->keys[0].added, e->keys[1].added);
}

TEST_F(SupervisionTest, TokenAuthenticatesOneOriginOnly) {
  ledger::NoteKey key_b = NewKey(std::string(kOtherOrigin) + "/k1");
  const std::string token_b = Enroll(kOtherOrigin, key_b);
  ASSERT_NE(token_b, token_);
  EXPECT_EQ(*sup_->AuthenticatePush(token_), kOrigin);
  EXPECT_EQ(*sup_->AuthenticatePush(token_b), kOtherOrigin);
  EXPECT_EQ(sup_->AuthenticatePush("0000").error().code(), core::StatusCode::kUnauthenticated);
  EXPECT_EQ(sup_->AuthenticatePush("").error().code(), core::StatusCode::kUnauthenticated);

  // B's token with A's (validly signed) checkpoint.
  log_.AddN(3, "a");
  Decision d = Submit(log_.Grow(key_, 0, 3), kOtherOrigin);
  EXPECT_EQ(d.reason, Reason::kOriginMismatch) << d.detail;
  EXPECT_EQ(StatusCodeFor(d.reason), core::StatusCode::kPermissionDenied);
  EXPECT_TRUE(sup_->Enterprise(kOrigin)->checkpoint.empty());

  // A re-issued token replaces the old one.
  auto fresh = sup_->IssueToken(kOrigin);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_FALSE(sup_->AuthenticatePush(token_).has_value());
  EXPECT_EQ(*sup_->AuthenticatePush(*fresh), kOrigin);
  EXPECT_EQ(sup_->Enroll(kOrigin, ledger::HashAlg::kSm3, {key_.VerifierKey()}).error().code(),
            core::StatusCode::kAlreadyExists);
}

TEST_F(SupervisionTest, LeafDigestsMustGiveTheSignedRoot) {
  log_.AddN(8, "a");
  // Matching digests: held and verified.
  Decision ok = Submit(log_.Grow(key_, 0, 4));
  ASSERT_EQ(ok.reason, Reason::kAccepted);
  EXPECT_EQ(ok.leaves_held, 4u);
  // Digests that do not give the root of the checkpoint they complete.
  Submission wrong = log_.Grow(key_, 4, 8);
  wrong.leaves->hashes[2][0] ^= 0x80;
  Decision d = Submit(wrong);
  EXPECT_EQ(d.reason, Reason::kDigestMismatch) << d.detail;
  ASSERT_TRUE(d.alert_id.has_value());
  EXPECT_EQ(sup_->Alerts()->back().kind, AlertKind::kDigestMismatch);
  EXPECT_EQ(sup_->Enterprise(kOrigin)->size, 4u);  // nothing of it was accepted
  EXPECT_EQ(sup_->Enterprise(kOrigin)->leaves_held, 4u);
  // A held digest that changes (an overlap that differs) is a mismatch too.
  Submission changed = log_.Grow(key_, 4, 8);
  changed.leaves = log_.Leaves(2, 8);
  changed.leaves->hashes[0][5] ^= 0x01;  // leaf 2
  Decision c = Submit(changed);
  EXPECT_EQ(c.reason, Reason::kDigestMismatch) << c.detail;
  EXPECT_NE(c.detail.find("leaf 2"), std::string::npos) << c.detail;
  // An identical overlap is fine.
  Submission overlap = log_.Grow(key_, 4, 8);
  overlap.leaves = log_.Leaves(1, 8);
  EXPECT_EQ(Submit(overlap).reason, Reason::kAccepted);
  EXPECT_EQ(sup_->Enterprise(kOrigin)->leaves_held, 8u);
  auto leaf = sup_->HeldLeaf(kOrigin, 6);
  ASSERT_TRUE(leaf.has_value() && leaf->has_value());
  EXPECT_EQ(**leaf, log_.leaves()[6]);
  EXPECT_FALSE(sup_->HeldLeaf(kOrigin, 8)->has_value());
}

TEST_F(SupervisionTest, DigestsAreCheckedAtEarlierAcceptedSizesToo) {
  log_.AddN(10, "a");
  Accept(0, 3);
  // 3 -> 6 accepted without leaves; then leaves 3..8 arrive with the checkpoint of 10:
  // they pass size 6, whose root is known, and must give it.
  ASSERT_EQ(Submit(log_.Grow(key_, 3, 6, false)).reason, Reason::kAccepted);
  Submission s = log_.Grow(key_, 6, 10, false);
  s.leaves = log_.Leaves(3, 8);
  s.leaves->hashes[1][3] ^= 0x04;  // leaf 4
  Decision d = Submit(s);
  EXPECT_EQ(d.reason, Reason::kDigestMismatch) << d.detail;
  EXPECT_NE(d.detail.find("size 6"), std::string::npos) << d.detail;
}

TEST_F(SupervisionTest, LeafGapsAndOverreachAreRefused) {
  log_.AddN(10, "a");
  Accept(0, 4);
  Submission gap = log_.Grow(key_, 4, 10);
  gap.leaves = log_.Leaves(5, 10);
  Decision d = Submit(gap);
  EXPECT_EQ(d.reason, Reason::kLeafGap) << d.detail;
  EXPECT_EQ(d.field, "leaves.from");
  EXPECT_EQ(d.leaves_held, 4u);
  EXPECT_TRUE(sup_->Alerts()->empty());
  // Leaves past the checkpoint's own size.
  Submission past = log_.Grow(key_, 4, 8);
  past.leaves = log_.Leaves(4, 10);
  Decision p = Submit(past);
  EXPECT_EQ(p.reason, Reason::kMalformed);
  EXPECT_EQ(p.field, "leaves");
  EXPECT_EQ(sup_->Enterprise(kOrigin)->size, 4u);
}

TEST_F(SupervisionTest, RestartKeepsEverything) {
  log_.AddN(20, "a");
  Accept(0, 7);
  Accept(7, 12);
  Submission smaller;
  smaller.note = log_.Note(key_, 3);
  ASSERT_EQ(Submit(smaller).reason, Reason::kRollback);
  const std::string vkey = sup_->VerifierKey();
  const std::string held = sup_->Enterprise(kOrigin)->checkpoint;

  Reopen();
  EXPECT_TRUE(sup_->recovery().detail.empty()) << sup_->recovery().detail;
  EXPECT_EQ(sup_->VerifierKey(), vkey);
  auto e = sup_->Enterprise(kOrigin);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->checkpoint, held);
  EXPECT_EQ(e->size, 12u);
  EXPECT_EQ(e->leaves_held, 12u);
  EXPECT_EQ(e->alerts, 1u);
  EXPECT_EQ(sup_->Alerts()->size(), 1u);
  EXPECT_EQ(*sup_->AuthenticatePush(token_), kOrigin);
  // Continues: the Merkle edge is rebuilt from the leaf file and checked.
  Accept(12, 20);
  Submission wrong = log_.Grow(key_, 20, 20);
  wrong.leaves = log_.Leaves(19, 20);
  wrong.leaves->hashes[0][0] ^= 1;
  EXPECT_EQ(Submit(wrong).reason, Reason::kDigestMismatch);
}

TEST_F(SupervisionTest, SecondProcessSeesTheFirstProcessesWrites) {
  // The CLI enrolls while the server holds the directory open.
  auto other = Supervision::Open({.dir = dir_, .sync = false}, clock_);
  ASSERT_TRUE(other.has_value()) << other.error().ToString();
  ledger::NoteKey key_b = NewKey(std::string(kOtherOrigin) + "/k1");
  auto token_b = (*other)->Enroll(kOtherOrigin, ledger::HashAlg::kSm3, {key_b.VerifierKey()});
  ASSERT_TRUE(token_b.has_value());
  EXPECT_EQ(*sup_->AuthenticatePush(*token_b), kOtherOrigin);
  log_.AddN(5, "a");
  Accept(0, 3);
  Decision d = (*other)->Submit(kOrigin, log_.Grow(key_, 3, 5)).value();
  EXPECT_EQ(d.reason, Reason::kAccepted) << d.detail;
  EXPECT_EQ(sup_->Enterprise(kOrigin)->size, 5u);
  // This process's cached Merkle edge (at 3) is brought forward from the shared file.
  log_.AddN(2, "a");
  Accept(5, 7);
}

TEST_F(SupervisionTest, TornJournalTailIsCut) {
  log_.AddN(6, "a");
  Accept(0, 6);
  sup_.reset();
  const std::string journal = dir_ + "/journal.wgr";
  const auto size = std::filesystem::file_size(journal);
  {
    // A crash in the middle of appending a record: its header promises more than follows.
    std::ofstream f(journal, std::ios::binary | std::ios::app);
    const char partial[] = {0, 0, 1, 0, 'x', 'y', 'z', 'w', '{', '"'};
    f.write(partial, sizeof partial);
  }
  Reopen();
  EXPECT_EQ(sup_->recovery().truncated_journal_bytes, 10u);
  EXPECT_NE(sup_->recovery().detail.find("journal"), std::string::npos);
  EXPECT_EQ(std::filesystem::file_size(journal), size);
  EXPECT_EQ(sup_->Enterprise(kOrigin)->size, 6u);

  // A complete last record whose check fails is a torn write too.
  sup_.reset();
  {
    std::ofstream f(journal, std::ios::binary | std::ios::app);
    const char rec[] = {0, 0, 0, 2, 1, 2, 3, 4, '{', '}'};
    f.write(rec, sizeof rec);
  }
  Reopen();
  EXPECT_EQ(sup_->recovery().truncated_journal_bytes, 10u);
  log_.AddN(2, "a");
  Accept(6, 8);

  // Pages a crash left allocated but unwritten: zeros, however many.
  sup_.reset();
  {
    std::ofstream f(journal, std::ios::binary | std::ios::app);
    f << std::string(4096, '\0');
  }
  Reopen();
  EXPECT_EQ(sup_->recovery().truncated_journal_bytes, 4096u);
  EXPECT_EQ(sup_->Enterprise(kOrigin)->size, 8u);
}

TEST_F(SupervisionTest, UnacknowledgedLeafHashesAreCut) {
  log_.AddN(6, "a");
  Accept(0, 4);
  sup_.reset();
  const std::string leaves = dir_ + "/enterprises/1/leaves.bin";
  ASSERT_EQ(std::filesystem::file_size(leaves), 4u * 32);
  {
    // Leaf hashes written by a submission that crashed before its accept record.
    std::ofstream f(leaves, std::ios::binary | std::ios::app);
    f << std::string(40, 'z');
  }
  Reopen();
  EXPECT_EQ(sup_->recovery().truncated_leaves, 2u);
  EXPECT_EQ(std::filesystem::file_size(leaves), 4u * 32);
  Accept(4, 6);
}

TEST_F(SupervisionTest, DamageBeforeTheTailIsCorruption) {
  log_.AddN(6, "a");
  Accept(0, 3);
  Accept(3, 6);
  sup_.reset();
  {
    // Flip a byte inside the first (init) record.
    std::fstream f(dir_ + "/journal.wgr", std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(20);
    f.put('#');
  }
  auto s = Supervision::Open({.dir = dir_, .sync = false}, clock_);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(s.error().message().find("fails its check"), std::string::npos);
}

TEST_F(SupervisionTest, TamperedLeafFileIsDetected) {
  log_.AddN(6, "a");
  Accept(0, 4);
  sup_.reset();
  {
    std::fstream f(dir_ + "/enterprises/1/leaves.bin",
                   std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(33);
    f.put('#');
  }
  Reopen();
  auto d = sup_->Submit(kOrigin, log_.Grow(key_, 4, 6));
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), core::StatusCode::kCorruption);
  EXPECT_NE(d.error().message().find("leaf hashes held"), std::string::npos)
      << d.error().ToString();
}

TEST_F(SupervisionTest, EnrollmentIsValidated) {
  EXPECT_EQ(sup_->Enroll("x", ledger::HashAlg::kSm3, {}).error().field(), "key");
  EXPECT_EQ(sup_->Enroll("x", ledger::HashAlg::kSm3, {"nonsense"}).error().field(), "key");
  EXPECT_EQ(sup_->Enroll("", ledger::HashAlg::kSm3, {key_.VerifierKey()}).error().field(),
            "origin");
  EXPECT_EQ(sup_->Enroll("a\nb", ledger::HashAlg::kSm3, {key_.VerifierKey()}).error().field(),
            "origin");
  EXPECT_EQ(sup_->AddKey("nobody", key_.VerifierKey()).code(), core::StatusCode::kNotFound);
}

TEST(WireTest, SubmissionRoundTripsAndErrorsNameTheField) {
  TestLog log("o");
  log.AddN(5, "a");
  ledger::NoteKey key = NewKey("o/k1");
  Submission s = log.Grow(key, 2, 5);
  auto back = ParseSubmission(SubmissionToJson(s).dump(), 1 << 20);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->note, s.note);
  EXPECT_EQ(back->old_size, s.old_size);
  EXPECT_EQ(back->consistency, s.consistency);
  EXPECT_EQ(back->leaves->from, 2u);
  EXPECT_EQ(back->leaves->hashes, s.leaves->hashes);

  auto field = [](const std::string& body) {
    auto r = ParseSubmission(body, 1 << 20);
    return r.has_value() ? std::string("<ok>") : r.error().field();
  };
  EXPECT_EQ(field(R"({"consistency":[]})"), "checkpoint");
  EXPECT_EQ(field(R"({"checkpoint":5})"), "checkpoint");
  EXPECT_EQ(field(R"({"checkpoint":"x","extra":1})"), "extra");
  EXPECT_EQ(field(R"({"checkpoint":"x","old_size":-1})"), "old_size");
  EXPECT_EQ(field(R"({"checkpoint":"x","consistency":["zz"]})"), "consistency[0]");
  EXPECT_EQ(field(R"({"checkpoint":"x","leaves":{"from":0}})"), "leaves.hashes");
  EXPECT_EQ(field(R"({"checkpoint":"x","leaves":{"from":"0","hashes":[]}})"), "leaves.from");
  EXPECT_EQ(field(R"({"checkpoint":"x","leaves":{"from":0,"hashes":[1]}})"), "leaves.hashes[0]");
  EXPECT_EQ(field(R"({"checkpoint":"x","leaves":{"from":0,"hashes":[],"x":1}})"), "leaves.x");
  EXPECT_EQ(field("[1]"), "body");
  EXPECT_EQ(field("{"), "body");

  Decision d;
  d.reason = Reason::kFork;
  d.detail = "fork: x";
  d.accepted_size = 9;
  d.leaves_held = 4;
  d.alert_id = 3;
  auto parsed = ParseDecision(DecisionToJson(d).dump());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->reason, Reason::kFork);
  EXPECT_EQ(parsed->accepted_size, 9u);
  EXPECT_EQ(parsed->leaves_held, 4u);
  EXPECT_EQ(parsed->alert_id, std::optional<std::uint64_t>(3));
  EXPECT_EQ(EncodePathSegment("workguard.local/ab 12"), "workguard.local%2Fab%2012");
}

}  // namespace
}  // namespace wg::regulator
