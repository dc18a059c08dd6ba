#include "wg/evidence/keyring.h"

#include <sys/stat.h>

#include <filesystem>

#include "wg/core/file.h"
#include "wg/core/strings.h"

namespace wg::evidence {

using core::Result;
using core::Status;
namespace fs = std::filesystem;

namespace {

constexpr int kMaxVersions = 10000;

Status CheckOrgCode(const std::string& org) {
  if (org.empty() || org.size() > 32) return Status::InvalidArgument("must be 1..32 characters", "org");
  for (char c : org) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return Status::InvalidArgument("must match [a-z0-9-]+", "org");
  }
  return Status::Ok();
}

std::string Aad(const std::string& org, int version) {
  return "wg-org-key|" + org + "|" + std::to_string(version);
}

}  // namespace

KeyRing::KeyRing(std::string dir, std::string master, std::string origin_prefix)
    : dir_(std::move(dir)), master_(std::move(master)), origin_prefix_(std::move(origin_prefix)) {}

Result<std::unique_ptr<KeyRing>> KeyRing::Open(std::string keys_dir, std::string origin_prefix) {
  std::error_code ec;
  fs::create_directories(keys_dir, ec);
  if (ec) return Status::IoError("cannot create " + keys_dir + ": " + ec.message());
  fs::permissions(keys_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  const std::string master_path = keys_dir + "/master.key";
  auto existing = core::ReadFile(master_path, 1024);
  if (!existing.has_value() && existing.error().code() == core::StatusCode::kNotFound) {
    WG_ASSIGN_OR_RETURN(std::string fresh, crypto::RandomBytes(32));
    Status s = core::CreateFileExclusive(master_path, fresh, 0600);
    if (!s.ok() && s.code() != core::StatusCode::kAlreadyExists) return s;
    existing = core::ReadFile(master_path, 1024);
  }
  if (!existing.has_value()) return existing.error();
  if (existing->size() != 32) {
    return Status::Corruption(master_path + " holds " + std::to_string(existing->size()) +
                              " bytes; expected 32");
  }
  if (origin_prefix.empty() || origin_prefix.find_first_of(" +\n") != std::string::npos) {
    return Status::InvalidArgument("must be non-empty without spaces, '+' or newlines", "origin");
  }
  return std::unique_ptr<KeyRing>(
      new KeyRing(std::move(keys_dir), std::move(*existing), std::move(origin_prefix)));
}

Result<int> KeyRing::LatestVersion(const std::string& org) {
  const fs::path dir = fs::path(dir_) / "org" / org;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return 0;
  int latest = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("sign-", 0) != 0 || !name.ends_with(".sealed")) continue;
    auto v = core::ParseInt(name.substr(5, name.size() - 5 - 7), 1, kMaxVersions, "key file");
    if (v.has_value()) latest = std::max(latest, static_cast<int>(*v));
  }
  if (ec) return Status::IoError("cannot list " + dir.string() + ": " + ec.message());
  return latest;
}

Result<OrgKey> KeyRing::Load(const std::string& org, int version) {
  auto cached = cache_.find({org, version});
  if (cached != cache_.end()) return cached->second;
  const std::string base = dir_ + "/org/" + org + "/sign-" + std::to_string(version);
  WG_ASSIGN_OR_RETURN(std::string sealed, core::ReadFile(base + ".sealed", 1 << 16));
  auto pem = crypto::Open(master_, sealed, Aad(org, version));
  if (!pem.has_value()) {
    return Status::Corruption(base + ".sealed cannot be opened with master.key: " +
                              pem.error().message());
  }
  WG_ASSIGN_OR_RETURN(crypto::Sm2PrivateKey priv, crypto::Sm2PrivateKey::FromPem(*pem));
  const std::string name = Origin(org) + "/k" + std::to_string(version);
  WG_ASSIGN_OR_RETURN(ledger::NoteKey note, ledger::NoteKey::ForSigning(name, priv));
  OrgKey k{org, version, name, priv, priv.PublicKey(), note.VerifierKey()};
  cache_.emplace(std::make_pair(org, version), k);
  return k;
}

Result<OrgKey> KeyRing::Create(const std::string& org, int version) {
  std::error_code ec;
  const fs::path dir = fs::path(dir_) / "org" / org;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir.string() + ": " + ec.message());
  WG_ASSIGN_OR_RETURN(crypto::Sm2PrivateKey priv, crypto::Sm2PrivateKey::Generate());
  WG_ASSIGN_OR_RETURN(std::string pem, priv.Pem());
  WG_ASSIGN_OR_RETURN(std::string sealed, crypto::Seal(master_, pem, Aad(org, version)));
  const std::string base = (dir / ("sign-" + std::to_string(version))).string();
  WG_RETURN_IF_ERROR(core::WriteFileAtomic(base + ".pub", priv.PublicKey().Pem(), 0644));
  // Exclusive: two processes creating the same version never both succeed.
  WG_RETURN_IF_ERROR(core::CreateFileExclusive(base + ".sealed", sealed, 0600));
  return Load(org, version);
}

Result<OrgKey> KeyRing::Current(const std::string& org, bool* created) {
  WG_RETURN_IF_ERROR(CheckOrgCode(org));
  std::lock_guard lock(mu_);
  if (created != nullptr) *created = false;
  WG_ASSIGN_OR_RETURN(int v, LatestVersion(org));
  if (v > 0) return Load(org, v);
  auto k = Create(org, 1);
  if (!k.has_value() && k.error().code() == core::StatusCode::kAlreadyExists) return Load(org, 1);
  if (k.has_value() && created != nullptr) *created = true;
  return k;
}

Result<std::vector<OrgKey>> KeyRing::All(const std::string& org) {
  WG_RETURN_IF_ERROR(CheckOrgCode(org));
  std::lock_guard lock(mu_);
  WG_ASSIGN_OR_RETURN(int latest, LatestVersion(org));
  std::vector<OrgKey> out;
  for (int v = 1; v <= latest; ++v) {
    WG_ASSIGN_OR_RETURN(OrgKey k, Load(org, v));
    out.push_back(std::move(k));
  }
  return out;
}

Result<OrgKey> KeyRing::Version(const std::string& org, int version) {
  WG_RETURN_IF_ERROR(CheckOrgCode(org));
  if (version < 1 || version > kMaxVersions) {
    return Status::InvalidArgument("key version out of range", "version");
  }
  std::lock_guard lock(mu_);
  return Load(org, version);
}

Result<OrgKey> KeyRing::Rotate(const std::string& org) {
  WG_RETURN_IF_ERROR(CheckOrgCode(org));
  std::lock_guard lock(mu_);
  WG_ASSIGN_OR_RETURN(int v, LatestVersion(org));
  if (v >= kMaxVersions) return Status::ResourceExhausted("too many key versions", "org");
  return Create(org, v + 1);
}

Result<std::unique_ptr<crypto::PayloadSigner>> QrSigner(const OrgKey& key) {
  const std::string kid = key.org + "/k" + std::to_string(key.version);
  if (key.private_key.has_value()) return crypto::MakeSm2Signer(*key.private_key, kid);
  return crypto::MakeSm2Verifier(key.public_key, kid);
}

}  // namespace wg::evidence
