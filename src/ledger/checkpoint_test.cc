// Checkpoint and signed-note tests: the C2SP examples parse and re-format byte for byte;
// SM2 notes round-trip with several signers; every tamper is rejected; malformed notes are
// rejected naming the field.

#include "wg/ledger/checkpoint.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/crypto/sm.h"

namespace wg::ledger {
namespace {

using core::StatusCode;

// c2sp.org/tlog-checkpoint, "Note text" example.
constexpr std::string_view kC2spCheckpoint =
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\xe2\x80\x94 example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

// c2sp.org/signed-note example: the text itself contains a blank line.
constexpr std::string_view kC2spNote =
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed \xc3\xa8 subito sera.\n"
    "\n"
    "\xe2\x80\x94 quasimodo.example/salvatore "
    "NnugSzTjtVAewIS+Z/iJhUPeFDkO/"
    "5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

Hash HashFromHex(std::string_view hex) {
  Hash h{};
  std::string b = *core::FromHex(hex);
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

void ExpectInvalid(const core::Status& s, std::string_view field) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.field(), field) << s.ToString();
  EXPECT_NE(s.message().find(field), std::string::npos) << s.ToString();
}

TEST(CheckpointBodyTest, C2spExampleParsesAndReformats) {
  auto note = ParseNote(kC2spCheckpoint);
  ASSERT_TRUE(note.ok()) << note.error().ToString();
  auto cp = ParseCheckpointBody(note->text);
  ASSERT_TRUE(cp.ok()) << cp.error().ToString();
  EXPECT_EQ(cp->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(cp->size, 20852163u);
  EXPECT_EQ(cp->root,
            HashFromHex("0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62"));
  EXPECT_TRUE(cp->extensions.empty());
  EXPECT_EQ(CheckpointBody(*cp), note->text);
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].key_name, "example.com/behind-the-sofa");
  EXPECT_EQ(note->signatures[0].key_hash, 0x033de0aeu);
  EXPECT_EQ(note->signatures[0].signature.size(), 64u);
  EXPECT_EQ(FormatNote(*note), kC2spCheckpoint);
}

TEST(CheckpointBodyTest, RoundTripWithExtensions) {
  Checkpoint c;
  c.origin = "workguard/site-7/ORG0001";
  c.size = 8;
  c.root = HashFromHex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  c.extensions = {"time 1764380000"};
  const std::string body = CheckpointBody(c);
  EXPECT_EQ(body,
            "workguard/site-7/ORG0001\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
            "time 1764380000\n");
  auto back = ParseCheckpointBody(body);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->origin, c.origin);
  EXPECT_EQ(back->size, c.size);
  EXPECT_EQ(back->root, c.root);
  EXPECT_EQ(back->extensions, c.extensions);
  Checkpoint empty;
  empty.origin = "o";
  auto zero = ParseCheckpointBody(CheckpointBody(empty));
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->size, 0u);
}

TEST(CheckpointBodyTest, MalformedBodiesNameTheField) {
  const std::string root = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
  ExpectInvalid(ParseCheckpointBody("o\n8\n" + root).error(), "checkpoint");  // no final \n
  ExpectInvalid(ParseCheckpointBody("o\n8\n").error(), "checkpoint");
  ExpectInvalid(ParseCheckpointBody("\n8\n" + root + "\n").error(), "origin");
  ExpectInvalid(ParseCheckpointBody("o\n08\n" + root + "\n").error(), "size");
  ExpectInvalid(ParseCheckpointBody("o\n00\n" + root + "\n").error(), "size");
  ExpectInvalid(ParseCheckpointBody("o\n-1\n" + root + "\n").error(), "size");
  ExpectInvalid(ParseCheckpointBody("o\n+1\n" + root + "\n").error(), "size");
  ExpectInvalid(ParseCheckpointBody("o\n\n" + root + "\n").error(), "size");
  ExpectInvalid(ParseCheckpointBody("o\n18446744073709551616\n" + root + "\n").error(), "size");
  EXPECT_TRUE(ParseCheckpointBody("o\n18446744073709551615\n" + root + "\n").ok());
  // 31 bytes, bad alphabet, missing padding, non-canonical trailing bits.
  ExpectInvalid(ParseCheckpointBody("o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==\n").error(),
                "root");
  ExpectInvalid(ParseCheckpointBody("o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=\n").error(),
                "root");
  ExpectInvalid(ParseCheckpointBody("o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n").error(),
                "root");
  ExpectInvalid(ParseCheckpointBody("o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n").error(),
                "root");
  ExpectInvalid(ParseCheckpointBody("o\n8\n" + root + "\n\n").error(), "extension line 1");
  ExpectInvalid(ParseCheckpointBody("o\n8\n" + root + "\nx\n\n").error(), "extension line 2");
  ExpectInvalid(ParseCheckpointBody("o\tx\n8\n" + root + "\n").error(), "checkpoint");
  ExpectInvalid(ParseCheckpointBody("o\xff\n8\n" + root + "\n").error(), "checkpoint");
}

TEST(SignedNoteTest, C2spNoteSplitsAtTheLastBlankLine) {
  auto note = ParseNote(kC2spNote);
  ASSERT_TRUE(note.ok()) << note.error().ToString();
  EXPECT_EQ(note->text,
            "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\n"
            "ed \xc3\xa8 subito sera.\n");
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].key_name, "quasimodo.example/salvatore");
  EXPECT_EQ(note->signatures[0].key_hash, 0x367ba04bu);
  EXPECT_EQ(core::ToHex(note->signatures[0].signature),
            "34e3b5501ec084be67f8898543de14390eff9410da2e5d7671884cb942f8485f"
            "2d6f6824a38dacca2e152414d3131c5f18fdf628404306aa3f765e911c0db487");
  EXPECT_EQ(FormatNote(*note), kC2spNote);
}

TEST(SignedNoteTest, MalformedNotesNameTheField) {
  const std::string text = "o\n1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
  const std::string sig = "\xe2\x80\x94 k AAAAAAAA\n";  // key hash 0, 2 signature bytes
  ASSERT_TRUE(ParseNote(text + "\n" + sig).ok());
  ExpectInvalid(ParseNote(text + sig).error(), "note");  // missing blank line
  ExpectInvalid(ParseNote("o\r\n1\n\n" + sig).error(), "note");
  ExpectInvalid(ParseNote("o\x01\n\n" + sig).error(), "note");
  ExpectInvalid(ParseNote("o\xc3\x28\n\n" + sig).error(), "note");  // invalid UTF-8
  ExpectInvalid(ParseNote(text + "\n").error(), "signatures");
  ExpectInvalid(ParseNote(text + "\n\xe2\x80\x94 k AAAAAAAA").error(), "signatures");
  ExpectInvalid(ParseNote(text + "\n- k AAAAAAAA\n").error(), "signature line 1");
  ExpectInvalid(ParseNote(text + "\n" + sig + "\xe2\x80\x94 kAAAAAAAA\n").error(),
                "signature line 2");
  ExpectInvalid(ParseNote(text + "\n\xe2\x80\x94 k AAAA*AAA\n").error(), "signature line 1");
  ExpectInvalid(ParseNote(text + "\n\xe2\x80\x94 k AAAAAAA\n").error(), "signature line 1");
  ExpectInvalid(ParseNote(text + "\n\xe2\x80\x94 k AAAAAA==\n").error(), "signature line 1");
  ExpectInvalid(ParseNote(text + "\n\xe2\x80\x94 a+b AAAAAAAA\n").error(), "signature line 1");
  ExpectInvalid(ParseNote(text + "\n\xe2\x80\x94 a\xc2\xa0"
                                 "b AAAAAAAA\n")
                    .error(),
                "signature line 1");
  ExpectInvalid(ParseNote(text + "\n\xe2\x80\x94  AAAAAAAA\n").error(), "signature line 1");

  std::string sixteen, seventeen;
  for (int i = 0; i < 16; ++i) sixteen += sig;
  seventeen = sixteen + sig;
  auto ok16 = ParseNote(text + "\n" + sixteen);
  ASSERT_TRUE(ok16.ok()) << ok16.error().ToString();
  EXPECT_EQ(ok16->signatures.size(), 16u);
  ExpectInvalid(ParseNote(text + "\n" + seventeen).error(), "signatures");

  std::string big(64 * 1024, 'x');
  ExpectInvalid(ParseNote(big + "\n\n" + sig).error(), "note");
}

// --- SM2 notes ------------------------------------------------------------------------------

class NoteKeyTest : public ::testing::Test {
 protected:
  static crypto::Sm2PrivateKey NewKey() {
    auto k = crypto::Sm2PrivateKey::Generate();
    EXPECT_TRUE(k.ok()) << k.error().ToString();
    return *k;
  }
  static NoteKey Signer(std::string name) {
    auto k = NoteKey::ForSigning(std::move(name), NewKey());
    EXPECT_TRUE(k.ok()) << k.error().ToString();
    return *k;
  }
  static SignedNote CheckpointNote(std::uint64_t size) {
    Checkpoint c;
    c.origin = "workguard/site-7/ORG0001";
    c.size = size;
    c.root = HashLeaf(HashAlg::kSm3, "root " + std::to_string(size));
    c.extensions = {"time 1764380000"};
    return SignedNote{CheckpointBody(c), {}};
  }
};

TEST_F(NoteKeyTest, EnterpriseAndRegulatorCosign) {
  const NoteKey enterprise = Signer("workguard/site-7/ORG0001");
  const NoteKey regulator = Signer("regulator.example/anquan-jianguan");
  SignedNote note = CheckpointNote(1234);
  ASSERT_TRUE(enterprise.Sign(&note).ok());
  ASSERT_TRUE(regulator.Sign(&note).ok());
  ASSERT_EQ(note.signatures.size(), 2u);
  EXPECT_EQ(note.signatures[0].signature.size(), 64u);

  const std::string text = FormatNote(note);
  auto parsed = ParseNote(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(FormatNote(*parsed), text);
  EXPECT_TRUE(enterprise.Verify(*parsed).ok());
  EXPECT_TRUE(regulator.Verify(*parsed).ok());
  auto cp = ParseCheckpointBody(parsed->text);
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->size, 1234u);

  // Re-signing replaces the key's line instead of adding another.
  ASSERT_TRUE(enterprise.Sign(&note).ok());
  EXPECT_EQ(note.signatures.size(), 2u);
  EXPECT_TRUE(enterprise.Verify(note).ok());
}

TEST_F(NoteKeyTest, UnknownLinesAreIgnoredAndMissingOnesAreNotFound) {
  const NoteKey enterprise = Signer("workguard/site-7/ORG0001");
  const NoteKey regulator = Signer("regulator.example/anquan-jianguan");
  // Another key under the same name: same name, different key hash.
  const NoteKey impostor = Signer("workguard/site-7/ORG0001");
  ASSERT_NE(impostor.key_hash(), enterprise.key_hash());

  SignedNote note = CheckpointNote(9);
  ASSERT_TRUE(regulator.Sign(&note).ok());
  note.signatures.push_back({"witness.example/w1", 0x01020304, std::string(64, '\x07')});
  auto missing = enterprise.Verify(note);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("workguard/site-7/ORG0001"), std::string::npos);

  ASSERT_TRUE(impostor.Sign(&note).ok());
  EXPECT_EQ(enterprise.Verify(note).code(), StatusCode::kNotFound);
  ASSERT_TRUE(enterprise.Sign(&note).ok());
  EXPECT_EQ(note.signatures.size(), 4u);
  EXPECT_TRUE(enterprise.Verify(note).ok());
  EXPECT_TRUE(regulator.Verify(note).ok());
  EXPECT_TRUE(impostor.Verify(note).ok());
}

TEST_F(NoteKeyTest, EveryTamperIsRejected) {
  const NoteKey enterprise = Signer("workguard/site-7/ORG0001");
  SignedNote good = CheckpointNote(77);
  ASSERT_TRUE(enterprise.Sign(&good).ok());
  auto parsed_body = ParseCheckpointBody(good.text);
  ASSERT_TRUE(parsed_body.ok());

  auto with_body = [&](Checkpoint c) {
    SignedNote n = good;
    n.text = CheckpointBody(c);
    return n;
  };
  Checkpoint c = *parsed_body;
  c.size = 78;
  EXPECT_EQ(enterprise.Verify(with_body(c)).code(), StatusCode::kCorruption);
  c = *parsed_body;
  c.root[31] ^= 1;
  EXPECT_EQ(enterprise.Verify(with_body(c)).code(), StatusCode::kCorruption);
  c = *parsed_body;
  c.origin += "x";
  EXPECT_EQ(enterprise.Verify(with_body(c)).code(), StatusCode::kCorruption);
  c = *parsed_body;
  c.extensions.clear();
  EXPECT_EQ(enterprise.Verify(with_body(c)).code(), StatusCode::kCorruption);

  for (std::size_t byte : {0u, 31u, 32u, 63u}) {
    SignedNote n = good;
    n.signatures[0].signature[byte] ^= 0x10;
    core::Status s = enterprise.Verify(n);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << byte;
    EXPECT_NE(s.message().find("signature line 1"), std::string::npos) << s.message();
  }
  SignedNote shorter = good;
  shorter.signatures[0].signature.pop_back();
  EXPECT_NE(enterprise.Verify(shorter).message().find("63 signature bytes, want 64"),
            std::string::npos);
  // The same tampering through the text form.
  std::string text = FormatNote(good);
  text[text.find("\n77\n") + 2] = '6';
  auto reparsed = ParseNote(text);
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(enterprise.Verify(*reparsed).code(), StatusCode::kCorruption);
}

TEST_F(NoteKeyTest, SignsWithTheCheckpointDistinguishingId) {
  const crypto::Sm2PrivateKey key = NewKey();
  auto signer = NoteKey::ForSigning("workguard/site-7/ORG0001", key);
  ASSERT_TRUE(signer.ok());
  SignedNote note = CheckpointNote(5);
  ASSERT_TRUE(signer->Sign(&note).ok());
  auto der = crypto::Sm2SignatureFromRaw(note.signatures[0].signature);
  ASSERT_TRUE(der.ok());
  EXPECT_TRUE(key.PublicKey().Verify(note.text, *der, "workguard-checkpoint-v1").ok());
  EXPECT_FALSE(key.PublicKey().Verify(note.text, *der, crypto::kSm2DefaultId).ok());
}

TEST_F(NoteKeyTest, KeyHashFollowsSignedNote) {
  const NoteKey k = Signer("workguard/site-7/ORG0001");
  std::string material = "workguard/site-7/ORG0001\n";
  material +=
      "\xff"
      "workguard-sm2";
  material += k.public_key().Raw();
  const crypto::Digest32 d = crypto::Sha256(material);
  EXPECT_EQ(k.key_hash(), std::uint32_t{d[0]} << 24 | std::uint32_t{d[1]} << 16 |
                              std::uint32_t{d[2]} << 8 | std::uint32_t{d[3]});
}

TEST_F(NoteKeyTest, VerifierKeyRoundTrip) {
  const NoteKey signer = Signer("regulator.example/anquan-jianguan");
  const std::string vkey = signer.VerifierKey();
  char hash[9];
  std::snprintf(hash, sizeof(hash), "%08x", signer.key_hash());
  const std::string prefix = "regulator.example/anquan-jianguan+" + std::string(hash) + "+";
  EXPECT_EQ(vkey.substr(0, prefix.size()), prefix);
  auto verifier = NoteKey::FromVerifierKey(vkey);
  ASSERT_TRUE(verifier.ok()) << verifier.error().ToString();
  EXPECT_EQ(verifier->name(), signer.name());
  EXPECT_EQ(verifier->key_hash(), signer.key_hash());
  EXPECT_EQ(verifier->public_key().Raw(), signer.public_key().Raw());
  EXPECT_EQ(verifier->VerifierKey(), vkey);

  SignedNote note = CheckpointNote(3);
  ASSERT_TRUE(signer.Sign(&note).ok());
  EXPECT_TRUE(verifier->Verify(note).ok());
  EXPECT_EQ(verifier->Sign(&note).code(), StatusCode::kFailedPrecondition);

  auto pub_only = NoteKey::ForVerifying(signer.name(), signer.public_key());
  ASSERT_TRUE(pub_only.ok());
  EXPECT_EQ(pub_only->VerifierKey(), vkey);

  // Malformed vkeys.
  std::string wrong_hash = vkey;
  wrong_hash[wrong_hash.find('+') + 1] = wrong_hash[wrong_hash.find('+') + 1] == '0' ? '1' : '0';
  ExpectInvalid(NoteKey::FromVerifierKey(wrong_hash).error(), "vkey");
  ExpectInvalid(NoteKey::FromVerifierKey("name+" + std::string(hash)).error(), "vkey");
  ExpectInvalid(NoteKey::FromVerifierKey("na me" + vkey.substr(vkey.find('+'))).error(), "vkey");
  ExpectInvalid(NoteKey::FromVerifierKey(vkey.substr(0, vkey.size() - 4)).error(), "vkey");
  const std::string ed25519_style = prefix + "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  ExpectInvalid(NoteKey::FromVerifierKey(ed25519_style).error(), "vkey");
}

TEST_F(NoteKeyTest, KeyNamesAndNoteTextAreChecked) {
  for (const char* bad : {"", "a b", "a+b", "caf\xc3\xa9"}) {
    auto k = NoteKey::ForSigning(bad, NewKey());
    ASSERT_FALSE(k.ok()) << bad;
    EXPECT_EQ(k.error().field(), "key_name");
  }
  const NoteKey signer = Signer("k");
  SignedNote no_newline{"text", {}};
  EXPECT_EQ(signer.Sign(&no_newline).field(), "text");
  SignedNote control{"te\x07xt\n", {}};
  EXPECT_EQ(signer.Sign(&control).field(), "text");
  SignedNote full{"text\n", {}};
  for (int i = 0; i < 16; ++i) full.signatures.push_back({"w" + std::to_string(i), 1, "s"});
  EXPECT_EQ(signer.Sign(&full).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace wg::ledger
