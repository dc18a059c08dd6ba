#pragma once
// RegulatorServer: the regulator's HTTP/JSON interface (docs/formats/regulator.md).
//
//   POST /regulator/v1/submissions                         push token of the enterprise
//   GET  /regulator/v1/enterprises                         admin token
//   GET  /regulator/v1/enterprises/{origin}/checkpoint     admin token (origin URL-encoded)
//   GET  /regulator/v1/alerts[?origin=O]                   admin token
//   GET  /regulator/v1/key                                 public: the regulator's vkey
//
// Tokens travel as "Authorization: Bearer <token>". A push token authenticates one
// enterprise, and a submission is decided only for the origin that token was enrolled
// with (Supervision::Submit). The admin token is compared by its SHA-256 digest, which is
// all the server is given. Errors have the API's shape, {"error": {"code", "message",
// "field"}}; a refused submission adds the decision (wire.h).
//
// Lifetime and threads: the Supervision must outlive the server. Start() binds (port 0
// picks a free port) and serves on background threads; Stop() finishes the requests in
// flight and joins; it is idempotent and called by the destructor.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "wg/core/status.h"
#include "wg/regulator/supervision.h"

namespace wg::regulator {

struct RegulatorServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                           // 0 = pick a free port
  std::size_t max_body_bytes = 2u << 20;  // a full page of 10000 leaf hashes is ~0.7 MB
  int threads = 8;
  std::string admin_token_sha256;  // hex; empty: the admin routes refuse everyone
};

class RegulatorServer {
 public:
  RegulatorServer(Supervision& supervision, RegulatorServerOptions options);
  ~RegulatorServer();
  RegulatorServer(const RegulatorServer&) = delete;
  RegulatorServer& operator=(const RegulatorServer&) = delete;

  core::Status Start();
  int port() const;
  void Stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// DIR/admin-token.sha256 holds the hex SHA-256 of the regulator's admin token. Creates
// it when absent and returns the token, to be shown once; nullopt when it existed.
core::Result<std::optional<std::string>> EnsureAdminToken(const std::string& dir);
core::Result<std::string> ReadAdminTokenDigest(const std::string& dir);

}  // namespace wg::regulator
