#include "wg/server/installation.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"

namespace wg::server {

namespace fs = std::filesystem;
using core::Result;
using core::Status;

Result<std::string> LoadOrCreateKey(const std::string& data_dir, const std::string& name) {
  fs::path dir = fs::path(data_dir) / "keys";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  fs::path p = dir / name;
  if (!fs::exists(p)) {
    WG_ASSIGN_OR_RETURN(std::string key, crypto::RandomBytes(32));
    // O_EXCL: two processes starting at once never both write a key.
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
      ssize_t n = ::write(fd, key.data(), key.size());
      bool ok = n == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) return Status::IoError("cannot write " + p.string());
    } else if (errno != EEXIST) {
      return Status::IoError("cannot create " + p.string());
    }
  }
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  if (key.size() != 32) {
    return Status::Corruption(p.string() + " holds " + std::to_string(key.size()) +
                              " bytes; expected 32");
  }
  return key;
}

Result<std::unique_ptr<Installation>> Installation::Open(const InstallationOptions& options,
                                                         const core::Clock& clock) {
  if (options.data_dir.empty()) return Status::InvalidArgument("is required", "data");
  std::unique_ptr<Installation> inst(new Installation());
  inst->data_dir_ = options.data_dir;
  std::error_code ec;
  fs::create_directories(fs::path(options.data_dir) / "tmp", ec);
  if (ec) return Status::IoError("cannot create " + options.data_dir + ": " + ec.message());

  std::string rules_dir =
      options.rules_dir.empty() ? options.data_dir + "/rules" : options.rules_dir;
  if (options.rules_dir.empty()) WG_RETURN_IF_ERROR(registry::Rulebook::InstallDefaults(rules_dir));
  WG_ASSIGN_OR_RETURN(registry::Rulebook book, registry::Rulebook::LoadDirectory(rules_dir));
  inst->rulebook_ = std::make_unique<registry::Rulebook>(std::move(book));

  WG_ASSIGN_OR_RETURN(inst->store_,
                      store::OpenSqliteStore({.path = options.data_dir + "/workguard.db"}));
  WG_ASSIGN_OR_RETURN(std::string id_key, LoadOrCreateKey(options.data_dir, "id-digest.key"));
  WG_ASSIGN_OR_RETURN(std::string qr_key, LoadOrCreateKey(options.data_dir, "qr-hmac.key"));
  // The key id published in QR payloads: the first 8 hex digits of SM3(key).
  std::string kid = "k" + core::ToHex(crypto::Sm3(qr_key)).substr(0, 8);
  WG_ASSIGN_OR_RETURN(auto signer, crypto::MakeHmacSm3Signer(qr_key, kid));
  inst->registry_ = std::make_unique<registry::Registry>(
      *inst->store_, clock, *inst->rulebook_, registry::IdDigester(id_key), std::move(signer));
  if (options.load_index) WG_RETURN_IF_ERROR(inst->registry_->LoadIndex());
  return inst;
}

Result<domain::Organization> Installation::OrgByCode(const std::string& code) {
  auto org = store_->FindOrganizationByCode(code);
  if (!org && org.error().code() == core::StatusCode::kNotFound) {
    return Status::NotFound("no organization with code '" + code + "'", "org");
  }
  return org;
}

}  // namespace wg::server
