// C2SP tlog-checkpoint bodies inside C2SP signed notes, signed with SM2.
// Format and choices: docs/formats/checkpoint.md.

#include "wg/ledger/checkpoint.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"

namespace wg::ledger {
namespace {

using core::Result;
using core::Status;

// Signature type for SM2 notes. signed-note assigns single bytes only to algorithms it
// specifies and reserves 0xff for others, "followed by a longer identifier that is
// unlikely to collide"; the identifier names the algorithm and its fixed parameters
// (SM2 with SM3, distinguishing ID kNoteSm2Id, raw 64-byte r||s signatures).
constexpr std::string_view kSm2Type =
    "\xff"
    "workguard-sm2";
constexpr std::string_view kNoteSm2Id = "workguard-checkpoint-v1";
constexpr std::size_t kMaxNoteBytes = 64 * 1024;
constexpr std::size_t kMaxSignatures = 16;
constexpr std::size_t kRawSignatureBytes = 64;
constexpr std::string_view kSigPrefix = "\xe2\x80\x94 ";  // U+2014 EM DASH, space

// --- Standard base64 (RFC 4648 §4), canonical only ----------------------------------------

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(in[i]));
  };
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kB64[(v >> s) & 63]);
  }
  if (const std::size_t rest = in.size() - i; rest > 0) {
    const std::uint32_t v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Rejects everything but the one canonical encoding (padding present, no stray bits), so
// a signed value has exactly one text form.
Result<std::string> Base64Decode(std::string_view in, const std::string& field) {
  if (in.empty() || in.size() % 4 != 0) {
    return Status::InvalidArgument(
        field + ": base64 length " + std::to_string(in.size()) + " is not a positive multiple of 4",
        field);
  }
  std::size_t pad = 0;
  if (in.back() == '=') pad = in[in.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    std::uint32_t v = 0;
    const bool last = i + 4 == in.size();
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = in[i + k];
      int d = B64Value(c);
      if (c == '=' && last && k >= 4 - pad) d = 0;
      if (d < 0) {
        return Status::InvalidArgument(
            field + ": invalid base64 character at offset " + std::to_string(i + k), field);
      }
      v = v << 6 | static_cast<std::uint32_t>(d);
    }
    const std::size_t keep = last ? 3 - pad : 3;
    if (last && pad > 0 && (v & ((1u << (8 * pad)) - 1)) != 0) {
      return Status::InvalidArgument(field + ": non-canonical base64 (stray bits before padding)",
                                     field);
    }
    for (std::size_t k = 0; k < keep; ++k)
      out.push_back(static_cast<char>((v >> (16 - 8 * k)) & 0xff));
  }
  return out;
}

// --- Text checks ---------------------------------------------------------------------------

// signed-note: valid UTF-8, no ASCII control characters but newline.
Status CheckNoteText(std::string_view s, const std::string& field) {
  if (!core::IsValidUtf8(s)) return Status::InvalidArgument(field + ": not valid UTF-8", field);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 && c != '\n') {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02x", c);
      return Status::InvalidArgument(
          field + ": control character " + hex + " at offset " + std::to_string(i), field);
    }
  }
  return Status::Ok();
}

// Unicode White_Space code points other than the ASCII ones (which are control characters
// or the separator space, checked elsewhere), as UTF-8.
bool HasUnicodeSpace(std::string_view s) {
  static constexpr std::string_view kSpaces[] = {
      "\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81",
      "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86",
      "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8",
      "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80"};
  if (s.find(' ') != std::string_view::npos) return true;
  return std::any_of(std::begin(kSpaces), std::end(kSpaces),
                     [&](std::string_view sp) { return s.find(sp) != std::string_view::npos; });
}

Status CheckSignerName(std::string_view name, const std::string& field) {
  if (name.empty()) return Status::InvalidArgument(field + ": key name is empty", field);
  if (name.find('+') != std::string_view::npos || HasUnicodeSpace(name)) {
    return Status::InvalidArgument(field + ": key name contains a space or '+'", field);
  }
  return Status::Ok();
}

// Our own keys: printable ASCII without '+' (the vkey separator).
Status CheckOwnKeyName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("key name is empty", "key_name");
  for (char c : name) {
    if (c < '!' || c > '~' || c == '+') {
      return Status::InvalidArgument("key name must be printable ASCII without spaces or '+'",
                                     "key_name");
    }
  }
  return Status::Ok();
}

std::uint32_t KeyHash(std::string_view name, std::string_view raw_public) {
  std::string material(name);
  material.push_back('\n');
  material.append(kSm2Type);
  material.append(raw_public);
  const crypto::Digest32 d = crypto::Sha256(material);
  return std::uint32_t{d[0]} << 24 | std::uint32_t{d[1]} << 16 | std::uint32_t{d[2]} << 8 |
         std::uint32_t{d[3]};
}

std::string KeyHashBytes(std::uint32_t h) {
  return std::string{static_cast<char>(h >> 24), static_cast<char>(h >> 16),
                     static_cast<char>(h >> 8), static_cast<char>(h)};
}

Result<std::uint64_t> ParseTreeSize(std::string_view s) {
  if (s.empty()) return Status::InvalidArgument("size: empty", "size");
  if (s.size() > 1 && s[0] == '0') {
    return Status::InvalidArgument("size: leading zero in \"" + std::string(s) + "\"", "size");
  }
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return Status::InvalidArgument("size: \"" + std::string(s) + "\" is not a decimal number",
                                     "size");
    }
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) {
      return Status::InvalidArgument("size: \"" + std::string(s) + "\" does not fit 64 bits",
                                     "size");
    }
    v = v * 10 + d;
  }
  return v;
}

}  // namespace

// --- Checkpoint body -----------------------------------------------------------------------

std::string CheckpointBody(const Checkpoint& c) {
  std::string out = c.origin;
  out += '\n';
  out += std::to_string(c.size);
  out += '\n';
  out +=
      Base64Encode(std::string_view(reinterpret_cast<const char*>(c.root.data()), c.root.size()));
  out += '\n';
  for (const std::string& e : c.extensions) {
    out += e;
    out += '\n';
  }
  return out;
}

core::Result<Checkpoint> ParseCheckpointBody(std::string_view text) {
  if (text.size() > kMaxNoteBytes) {
    return Status::InvalidArgument("checkpoint: " + std::to_string(text.size()) +
                                       " bytes, more than " + std::to_string(kMaxNoteBytes),
                                   "checkpoint");
  }
  WG_RETURN_IF_ERROR(CheckNoteText(text, "checkpoint"));
  if (text.empty() || text.back() != '\n') {
    return Status::InvalidArgument("checkpoint: text does not end in a newline", "checkpoint");
  }
  std::vector<std::string_view> lines = core::Split(text.substr(0, text.size() - 1), '\n');
  if (lines.size() < 3) {
    return Status::InvalidArgument(
        "checkpoint: " + std::to_string(lines.size()) + " lines, want origin, size and root",
        "checkpoint");
  }
  Checkpoint c;
  if (lines[0].empty()) return Status::InvalidArgument("origin: empty", "origin");
  c.origin = std::string(lines[0]);
  WG_ASSIGN_OR_RETURN(c.size, ParseTreeSize(lines[1]));
  WG_ASSIGN_OR_RETURN(std::string root, Base64Decode(lines[2], "root"));
  if (root.size() != c.root.size()) {
    return Status::InvalidArgument("root: " + std::to_string(root.size()) + " bytes, want 32",
                                   "root");
  }
  std::copy(root.begin(), root.end(), c.root.begin());
  for (std::size_t i = 3; i < lines.size(); ++i) {
    const std::string field = "extension line " + std::to_string(i - 2);
    if (lines[i].empty()) return Status::InvalidArgument(field + ": empty", field);
    c.extensions.emplace_back(lines[i]);
  }
  return c;
}

// --- Signed notes --------------------------------------------------------------------------

std::string FormatNote(const SignedNote& n) {
  std::string out = n.text;
  out += '\n';
  for (const NoteSignature& s : n.signatures) {
    out += kSigPrefix;
    out += s.key_name;
    out += ' ';
    out += Base64Encode(KeyHashBytes(s.key_hash) + s.signature);
    out += '\n';
  }
  return out;
}

core::Result<SignedNote> ParseNote(std::string_view note) {
  if (note.size() > kMaxNoteBytes) {
    return Status::InvalidArgument("note: " + std::to_string(note.size()) + " bytes, more than " +
                                       std::to_string(kMaxNoteBytes),
                                   "note");
  }
  WG_RETURN_IF_ERROR(CheckNoteText(note, "note"));
  // The text ends at the last blank line; the signature block follows it.
  const std::size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return Status::InvalidArgument("note: no blank line before the signatures", "note");
  }
  SignedNote n;
  n.text = std::string(note.substr(0, split + 1));
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty()) return Status::InvalidArgument("signatures: no signature lines", "signatures");
  if (sigs.back() != '\n') {
    return Status::InvalidArgument("signatures: signature block does not end in a newline",
                                   "signatures");
  }
  const std::vector<std::string_view> lines = core::Split(sigs.substr(0, sigs.size() - 1), '\n');
  if (lines.size() > kMaxSignatures) {
    return Status::InvalidArgument(
        "signatures: " + std::to_string(lines.size()) + " signature lines, at most 16",
        "signatures");
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string field = "signature line " + std::to_string(i + 1);
    std::string_view line = lines[i];
    if (line.substr(0, kSigPrefix.size()) != kSigPrefix) {
      return Status::InvalidArgument(field + ": does not start with an em dash and a space", field);
    }
    line.remove_prefix(kSigPrefix.size());
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) {
      return Status::InvalidArgument(field + ": no space between key name and signature", field);
    }
    NoteSignature s;
    s.key_name = std::string(line.substr(0, space));
    WG_RETURN_IF_ERROR(CheckSignerName(s.key_name, field));
    WG_ASSIGN_OR_RETURN(std::string blob, Base64Decode(line.substr(space + 1), field));
    if (blob.size() < 5) {
      return Status::InvalidArgument(field + ": " + std::to_string(blob.size()) +
                                         " signature bytes, want a 4-byte key ID and a signature",
                                     field);
    }
    s.key_hash = std::uint32_t{static_cast<unsigned char>(blob[0])} << 24 |
                 std::uint32_t{static_cast<unsigned char>(blob[1])} << 16 |
                 std::uint32_t{static_cast<unsigned char>(blob[2])} << 8 |
                 std::uint32_t{static_cast<unsigned char>(blob[3])};
    s.signature = blob.substr(4);
    n.signatures.push_back(std::move(s));
  }
  return n;
}

// --- NoteKey --------------------------------------------------------------------------------

core::Result<NoteKey> NoteKey::ForSigning(std::string key_name, crypto::Sm2PrivateKey key) {
  WG_RETURN_IF_ERROR(CheckOwnKeyName(key_name));
  crypto::Sm2PublicKey pub = key.PublicKey();
  const std::uint32_t hash = KeyHash(key_name, pub.Raw());
  return NoteKey(std::move(key_name), hash, std::move(pub), std::move(key));
}

core::Result<NoteKey> NoteKey::ForVerifying(std::string key_name, crypto::Sm2PublicKey key) {
  WG_RETURN_IF_ERROR(CheckOwnKeyName(key_name));
  const std::uint32_t hash = KeyHash(key_name, key.Raw());
  return NoteKey(std::move(key_name), hash, std::move(key), std::nullopt);
}

core::Result<NoteKey> NoteKey::FromVerifierKey(std::string_view vkey) {
  // Split at the first two '+': names and hex have none, base64 keys may.
  const std::size_t p1 = vkey.find('+');
  const std::size_t p2 = p1 == std::string_view::npos ? p1 : vkey.find('+', p1 + 1);
  if (p2 == std::string_view::npos) {
    return Status::InvalidArgument("vkey: want <name>+<key hash>+<key>", "vkey");
  }
  const std::string_view parts[3] = {vkey.substr(0, p1), vkey.substr(p1 + 1, p2 - p1 - 1),
                                     vkey.substr(p2 + 1)};
  const std::string name(parts[0]);
  if (Status s = CheckOwnKeyName(name); !s.ok()) {
    return Status::InvalidArgument("vkey: " + s.message(), "vkey");
  }
  if (parts[1].size() != 8) {
    return Status::InvalidArgument("vkey: key hash must be 8 hex digits", "vkey");
  }
  auto hash_bytes = core::FromHex(parts[1], "vkey");
  if (!hash_bytes.ok()) return Status::InvalidArgument("vkey: key hash is not hex", "vkey");
  const std::uint32_t stated = std::uint32_t{static_cast<unsigned char>((*hash_bytes)[0])} << 24 |
                               std::uint32_t{static_cast<unsigned char>((*hash_bytes)[1])} << 16 |
                               std::uint32_t{static_cast<unsigned char>((*hash_bytes)[2])} << 8 |
                               std::uint32_t{static_cast<unsigned char>((*hash_bytes)[3])};
  WG_ASSIGN_OR_RETURN(std::string blob, Base64Decode(parts[2], "vkey"));
  if (blob.substr(0, kSm2Type.size()) != kSm2Type) {
    return Status::InvalidArgument("vkey: not a workguard SM2 note key (signature type)", "vkey");
  }
  auto pub = crypto::Sm2PublicKey::FromRaw(std::string_view(blob).substr(kSm2Type.size()));
  if (!pub.ok()) return Status::InvalidArgument("vkey: " + pub.error().message(), "vkey");
  const std::uint32_t actual = KeyHash(name, pub->Raw());
  if (actual != stated) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "vkey: key hash %08x does not match the key (%08x)", stated,
                  actual);
    return Status::InvalidArgument(buf, "vkey");
  }
  return NoteKey(name, actual, std::move(*pub), std::nullopt);
}

std::string NoteKey::VerifierKey() const {
  char hash[9];
  std::snprintf(hash, sizeof(hash), "%08x", key_hash_);
  return name_ + "+" + hash + "+" + Base64Encode(std::string(kSm2Type) + public_.Raw());
}

core::Status NoteKey::Sign(SignedNote* note) const {
  if (!private_.has_value()) {
    return Status::FailedPrecondition("key " + name_ + " can only verify");
  }
  if (note->text.empty() || note->text.back() != '\n') {
    return Status::InvalidArgument("note text must end in a newline", "text");
  }
  WG_RETURN_IF_ERROR(CheckNoteText(note->text, "text"));
  auto same_key = [&](const NoteSignature& s) {
    return s.key_name == name_ && s.key_hash == key_hash_;
  };
  auto it = std::find_if(note->signatures.begin(), note->signatures.end(), same_key);
  if (it == note->signatures.end() && note->signatures.size() >= kMaxSignatures) {
    return Status::FailedPrecondition("note already carries 16 signatures", "signatures");
  }
  WG_ASSIGN_OR_RETURN(std::string der, private_->Sign(note->text, kNoteSm2Id));
  WG_ASSIGN_OR_RETURN(std::string raw, crypto::Sm2SignatureToRaw(der));
  NoteSignature sig{name_, key_hash_, std::move(raw)};
  if (it != note->signatures.end()) {
    *it = std::move(sig);
    // Drop any further lines of this key so the note carries exactly one.
    note->signatures.erase(std::remove_if(std::next(it), note->signatures.end(), same_key),
                           note->signatures.end());
  } else {
    note->signatures.push_back(std::move(sig));
  }
  return Status::Ok();
}

core::Status NoteKey::Verify(const SignedNote& note) const {
  bool found = false;
  for (std::size_t i = 0; i < note.signatures.size(); ++i) {
    const NoteSignature& s = note.signatures[i];
    // A line is this key's only when both name and key hash match; others are ignored
    // (signed-note: unknown keys are ignored even when one of the two collides).
    if (s.key_name != name_ || s.key_hash != key_hash_) continue;
    found = true;
    const std::string line = "signature line " + std::to_string(i + 1) + " (" + name_ + ")";
    if (s.signature.size() != kRawSignatureBytes) {
      return Status::Corruption(line + ": " + std::to_string(s.signature.size()) +
                                " signature bytes, want 64");
    }
    auto der = crypto::Sm2SignatureFromRaw(s.signature);
    if (!der.ok()) return Status::Corruption(line + ": " + der.error().message());
    if (Status v = public_.Verify(note.text, *der, kNoteSm2Id); !v.ok()) {
      return Status::Corruption(line + ": signature does not verify: " + v.message());
    }
  }
  if (!found) return Status::NotFound("note has no signature by " + name_);
  return Status::Ok();
}

}  // namespace wg::ledger
