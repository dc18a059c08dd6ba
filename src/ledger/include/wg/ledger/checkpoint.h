#pragma once
// Checkpoints (signed tree heads) in the C2SP tlog-checkpoint format, wrapped in a C2SP
// signed note (docs/formats/checkpoint.md):
//
//   <origin>\n<size>\n<base64 root>\n[extension lines]\n
//   \n
//   — <key name> <base64(key hash[4] || signature)>\n      (one line per signer)
//
// The enterprise signs with SM2 (GB/T 32918.2, distinguishing ID set explicitly, see
// docs/adr/0006-sm2-sm4.md); witnesses and the regulator add co-signature lines with
// their own keys. Signature type and key-hash derivation follow signed-note: key hash =
// first 4 bytes of SHA-256(key name || 0x0A || type identifier || public key). SM2 has no
// byte of its own there, so it uses the escape byte 0xFF followed by "workguard-sm2"
// (docs/formats/checkpoint.md); signatures are SM2-with-SM3 under the distinguishing ID
// "workguard-checkpoint-v1", stored as raw 64-byte r||s, over the note text.
//
// Parsing is strict: UTF-8, no control characters but newline, size a decimal without
// leading zeros, root exactly 32 bytes, at most 16 signature lines, notes up to 64 KiB.
// Every error names the field ("origin", "size", "root", "signature line 2").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wg/core/status.h"
#include "wg/crypto/sm.h"
#include "wg/ledger/merkle.h"

namespace wg::ledger {

struct Checkpoint {
  std::string origin;  // e.g. "workguard/<installation>/<org code>"
  std::uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // optional extra lines (e.g. "time 1764380000")
};

std::string CheckpointBody(const Checkpoint& c);  // the note text, ending in '\n'
core::Result<Checkpoint> ParseCheckpointBody(std::string_view text);

struct NoteSignature {
  std::string key_name;
  std::uint32_t key_hash = 0;
  std::string signature;  // raw bytes after the 4-byte key hash
};

struct SignedNote {
  std::string text;  // ending in '\n'
  std::vector<NoteSignature> signatures;
};

std::string FormatNote(const SignedNote& n);
core::Result<SignedNote> ParseNote(std::string_view note);

// An SM2 signer/verifier identity for notes.
class NoteKey {
 public:
  // Signing key (enterprise or regulator). key_name: [!-~] without '+', non-empty.
  static core::Result<NoteKey> ForSigning(std::string key_name, crypto::Sm2PrivateKey key);
  static core::Result<NoteKey> ForVerifying(std::string key_name, crypto::Sm2PublicKey key);
  // The "vkey" text form:
  // "<name>+<8 hex digits of key hash>+<base64(type identifier || 65-byte public key)>".
  static core::Result<NoteKey> FromVerifierKey(std::string_view vkey);
  std::string VerifierKey() const;

  const std::string& name() const { return name_; }
  std::uint32_t key_hash() const { return key_hash_; }
  const crypto::Sm2PublicKey& public_key() const { return public_; }

  // Adds this key's signature line to `note` (replacing an older line of the same key).
  core::Status Sign(SignedNote* note) const;
  // OK when `note` carries a valid signature by this key; kNotFound when it has no line
  // of this key; kCorruption when the line does not verify.
  core::Status Verify(const SignedNote& note) const;

 private:
  std::string name_;
  std::uint32_t key_hash_ = 0;
  crypto::Sm2PublicKey public_;
  std::optional<crypto::Sm2PrivateKey> private_;
  NoteKey(std::string name, std::uint32_t hash, crypto::Sm2PublicKey pub,
          std::optional<crypto::Sm2PrivateKey> priv)
      : name_(std::move(name)), key_hash_(hash), public_(std::move(pub)), private_(std::move(priv)) {}
};

}  // namespace wg::ledger
