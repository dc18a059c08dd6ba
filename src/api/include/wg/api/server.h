#pragma once
// ApiServer: the HTTP/JSON interface of workguard (docs/api.md).
//
// The server parses and validates HTTP input, authenticates the bearer token, checks the
// caller's role against the route table, calls the Registry or the Store with the
// caller's organization (taken from the session, never from the request) and renders
// JSON. It holds no business rules.
//
// Lifetime and threads: the Store, Registry and Clock must outlive the server. Start()
// binds and serves on a pool of `options.threads` background threads (cpp-httplib; each
// keep-alive connection, and each open event stream, holds one thread while it is open).
// Stop() stops accepting, finishes the requests in flight (open event streams end within
// a second) and joins; it is idempotent and is called by the destructor. Start and Stop are not safe to call concurrently with each other.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/http_error.h"
#include "wg/core/status.h"
#include "wg/core/time.h"
#include "wg/evidence/attachments.h"
#include "wg/registry/registry.h"
#include "wg/store/store.h"

namespace wg::permit {
class PermitService;
}
namespace wg::live {
class MonitorService;
class PresenceService;
}

namespace wg::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                            // 0 = pick a free port
  std::size_t max_body_bytes = 1 << 20;       // larger bodies -> 413, JSON error
  std::size_t max_import_bytes = 256u << 20;  // CSV import route only
  int json_max_depth = 32;
  int threads = 96;  // httplib pool; keep-alive connections and open streams each hold one
  // Server-Sent-Event streams (GET /api/v1/stream) open at once; past it 503. Each holds
  // a pool thread for as long as it is open, so 0 means threads / 4 (at least 1): streams
  // never take more than a quarter of the pool.
  int max_streams = 0;
  core::Duration token_ttl = core::Duration::Hours(12);
  std::string import_tmp_dir;  // where uploaded CSVs are spooled; DATA/tmp
  // The browser application (web/README.md): "" serves the files compiled into the binary,
  // a directory serves its files instead (Start fails when it has no index.html).
  std::string web_root;
};

// Maps a Status code to an HTTP status (wg/core/http_error.h, the one place this
// mapping exists).
using core::HttpStatusFor;

class ApiServer {
 public:
  ApiServer(store::Store& store, registry::Registry& registry, const core::Clock& clock,
            ServerOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // The attachment vault the /api/v1/attachments routes use (not owned; call before
  // Start). Without it those routes answer 503.
  void SetAttachments(evidence::Attachments* attachments);
  // The permit service the /api/v1/permits routes use (not owned; call before Start).
  // Without it those routes answer 503.
  void SetPermits(permit::PermitService* permits);
  // The live-monitoring service the points, readings, alarms, stream and monitor-status
  // routes use, and /metrics reads (not owned; call before Start). Without it those
  // routes answer 503.
  void SetMonitor(live::MonitorService* monitor);
  // People on site: tags, bindings, fences, site frames, positions, trajectories, the
  // confined-space register and the regional query (not owned; call before Start).
  // Without it those routes answer 503.
  void SetPresence(live::PresenceService* presence);

  // Binds and starts serving on background threads; returns once listening.
  core::Status Start();
  // The bound port (after Start).
  int port() const;
  // Stops and joins; idempotent.
  void Stop();
  // Route table for tests/OpenAPI checks: "GET /api/v1/workers/{id}" etc.
  std::vector<std::string> RegisteredRoutes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wg::api
