#include "wg/regulator/server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <thread>

#include "wg/core/file.h"
#include "wg/core/http_error.h"
#include "wg/core/json.h"
#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"
#include "wg/regulator/wire.h"

namespace wg::regulator {

using core::Json;
using core::Result;
using core::Status;
using core::StatusCode;

namespace {

constexpr time_t kIoTimeoutSeconds = 30;

using core::HttpStatusFor;

Json ErrorJson(StatusCode code, const std::string& message, const std::string& field) {
  return core::ErrorJson(core::StatusCodeName(code), message, field);
}

void Write(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(core::DumpJson(body), "application/json");
}

void WriteError(httplib::Response& res, const Status& s) {
  const int http = HttpStatusFor(s.code());
  if (http >= 500) spdlog::error("regulator: {}", s.ToString());
  if (s.code() == StatusCode::kUnauthenticated) res.set_header("WWW-Authenticate", "Bearer");
  Write(res, http, core::ErrorJson(s));
}

std::string BearerToken(const httplib::Request& req) {
  const std::string h = req.get_header_value("Authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (h.size() <= kPrefix.size()) return "";
  for (std::size_t i = 0; i < kPrefix.size(); ++i) {
    const char a = static_cast<char>(std::tolower(static_cast<unsigned char>(h[i])));
    if (a != static_cast<char>(std::tolower(static_cast<unsigned char>(kPrefix[i])))) return "";
  }
  return std::string(core::Trim(std::string_view(h).substr(kPrefix.size())));
}

}  // namespace

class RegulatorServer::Impl {
 public:
  Impl(Supervision& sup, RegulatorServerOptions options) : sup_(sup), options_(std::move(options)) {
    Configure();
  }
  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  void Configure();
  Status Admin(const httplib::Request& req) const;
  void Submit(const httplib::Request& req, httplib::Response& res);

  Supervision& sup_;
  const RegulatorServerOptions options_;
  httplib::Server http_;
  std::thread listener_;
  std::atomic<bool> listener_done_{false};
  int port_ = 0;
};

Status RegulatorServer::Impl::Admin(const httplib::Request& req) const {
  const std::string token = BearerToken(req);
  if (token.empty()) return Status::Unauthenticated("the admin token is required");
  if (options_.admin_token_sha256.empty() ||
      !crypto::ConstantTimeEqual(core::ToHex(crypto::Sha256(token)), options_.admin_token_sha256)) {
    return Status::Unauthenticated("unknown admin token");
  }
  return Status::Ok();
}

void RegulatorServer::Impl::Submit(const httplib::Request& req, httplib::Response& res) {
  auto origin = sup_.AuthenticatePush(BearerToken(req));
  if (!origin.has_value()) return WriteError(res, origin.error());
  if (!req.get_header_value("Content-Type").starts_with("application/json")) {
    return WriteError(res, Status::InvalidArgument("must be application/json", "Content-Type"));
  }
  auto sub = ParseSubmission(req.body, options_.max_body_bytes);
  if (!sub.has_value()) return WriteError(res, sub.error());
  auto d = sup_.Submit(*origin, *sub);
  if (!d.has_value()) return WriteError(res, d.error());
  Json body = DecisionToJson(*d);
  if (d->accepted()) {
    spdlog::info("regulator: {} {} size {}: {}", *origin, ReasonName(d->reason), d->accepted_size,
                 d->detail);
    return Write(res, 200, body);
  }
  spdlog::warn("regulator: refused a checkpoint of {}: {}: {}", *origin, ReasonName(d->reason),
               d->detail);
  const StatusCode code = StatusCodeFor(d->reason);
  body["error"] = ErrorJson(code, d->detail, d->field)["error"];
  Write(res, HttpStatusFor(code), body);
}

void RegulatorServer::Impl::Configure() {
  const std::size_t threads = static_cast<std::size_t>(std::max(1, options_.threads));
  // httplib takes ownership of the queue it is handed.
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_.set_read_timeout(kIoTimeoutSeconds);
  http_.set_write_timeout(kIoTimeoutSeconds);
  http_.set_payload_max_length(options_.max_body_bytes);
  // SO_REUSEADDR only (httplib's default adds SO_REUSEPORT, letting a second server bind
  // the same port silently).
  http_.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  http_.Post("/regulator/v1/submissions",
             [this](const httplib::Request& req, httplib::Response& res) { Submit(req, res); });
  http_.Get("/regulator/v1/key", [this](const httplib::Request&, httplib::Response& res) {
    Write(res, 200, {{"key_name", sup_.key_name()}, {"vkey", sup_.VerifierKey()}});
  });
  http_.Get("/regulator/v1/enterprises",
            [this](const httplib::Request& req, httplib::Response& res) {
              if (Status s = Admin(req); !s.ok()) return WriteError(res, s);
              auto list = sup_.Enterprises();
              if (!list.has_value()) return WriteError(res, list.error());
              Json arr = Json::array();
              for (const auto& e : *list) arr.push_back(EnterpriseToJson(e));
              Write(res, 200, {{"enterprises", arr}});
            });
  // The origin is one URL-encoded segment; httplib matches on the decoded path, where it
  // may span several segments, so the pattern takes everything between the two fixed parts.
  http_.Get(R"(/regulator/v1/enterprises/(.+)/checkpoint)", [this](const httplib::Request& req,
                                                                   httplib::Response& res) {
    if (Status s = Admin(req); !s.ok()) return WriteError(res, s);
    const std::string origin = req.matches[1];
    auto e = sup_.Enterprise(origin);
    if (!e.has_value()) return WriteError(res, e.error());
    if (e->checkpoint.empty()) {
      return WriteError(res, Status::NotFound("no checkpoint accepted yet for " + origin));
    }
    Write(res, 200,
          {{"origin", e->origin},
           {"size", e->size},
           {"root", core::ToHex(e->root)},
           {"accepted", core::FormatTimestamp(e->accepted)},
           {"leaves_held", e->leaves_held},
           {"checkpoint", e->checkpoint}});
  });
  http_.Get("/regulator/v1/alerts", [this](const httplib::Request& req, httplib::Response& res) {
    if (Status s = Admin(req); !s.ok()) return WriteError(res, s);
    for (const auto& [name, value] : req.params) {
      if (name != "origin")
        return WriteError(res, Status::InvalidArgument("unknown query parameter", name));
    }
    std::optional<std::string> origin;
    if (req.has_param("origin")) origin = req.get_param_value("origin");
    auto alerts = sup_.Alerts(origin);
    if (!alerts.has_value()) return WriteError(res, alerts.error());
    Json arr = Json::array();
    for (const auto& a : *alerts) arr.push_back(AlertToJson(a));
    Write(res, 200, {{"alerts", arr}});
  });

  http_.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      return Write(res, 404,
                   ErrorJson(StatusCode::kNotFound,
                             "no route for " + req.method + " " + req.path.substr(0, 200), ""));
    }
    if (res.status == 413) {
      return Write(res, 413,
                   ErrorJson(StatusCode::kResourceExhausted,
                             "the request body is larger than " +
                                 std::to_string(options_.max_body_bytes) + " bytes",
                             "body"));
    }
    Write(res, res.status,
          ErrorJson(res.status >= 500 ? StatusCode::kInternal : StatusCode::kInvalidArgument,
                    "HTTP status " + std::to_string(res.status), ""));
  });
  http_.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("regulator: unhandled exception in {} {}: {}", req.method, req.path, what);
        Write(res, 500, ErrorJson(StatusCode::kInternal, "internal error", ""));
      });
}

Status RegulatorServer::Impl::Start() {
  if (listener_.joinable()) return Status::FailedPrecondition("the server is already running");
  int port = -1;
  if (options_.port == 0) {
    port = http_.bind_to_any_port(options_.host);
  } else if (http_.bind_to_port(options_.host, options_.port)) {
    port = options_.port;
  }
  if (port <= 0) {
    return Status::Unavailable("cannot listen on " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + std::strerror(errno));
  }
  port_ = port;
  listener_done_.store(false);
  listener_ = std::thread([this] {
    if (!http_.listen_after_bind())
      spdlog::error("regulator: the HTTP listener stopped with an error");
    listener_done_.store(true);
  });
  for (int i = 0; i < 5000 && !http_.is_running() && !listener_done_.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  spdlog::info("regulator: listening on {}:{}", options_.host, port_);
  return Status::Ok();
}

void RegulatorServer::Impl::Stop() {
  if (!listener_.joinable()) return;
  for (int i = 0; i < 5000 && !http_.is_running() && !listener_done_.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  http_.stop();
  listener_.join();
}

RegulatorServer::RegulatorServer(Supervision& supervision, RegulatorServerOptions options)
    : impl_(std::make_unique<Impl>(supervision, std::move(options))) {}
RegulatorServer::~RegulatorServer() = default;
Status RegulatorServer::Start() { return impl_->Start(); }
int RegulatorServer::port() const { return impl_->port(); }
void RegulatorServer::Stop() { impl_->Stop(); }

Result<std::optional<std::string>> EnsureAdminToken(const std::string& dir) {
  const std::string path = dir + "/admin-token.sha256";
  auto existing = core::ReadFile(path, 1024);
  if (existing.has_value()) return std::optional<std::string>();
  if (existing.error().code() != StatusCode::kNotFound) return existing.error();
  WG_ASSIGN_OR_RETURN(std::string token, crypto::RandomHex(32));
  Status s = core::CreateFileExclusive(path, core::ToHex(crypto::Sha256(token)) + "\n", 0600);
  if (s.code() == StatusCode::kAlreadyExists)
    return std::optional<std::string>();  // a racing start
  WG_RETURN_IF_ERROR(s);
  return std::optional<std::string>(token);
}

Result<std::string> ReadAdminTokenDigest(const std::string& dir) {
  const std::string path = dir + "/admin-token.sha256";
  WG_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path, 1024));
  std::string digest(core::Trim(text));
  if (digest.size() != 64) return Status::Corruption(path + " does not hold a SHA-256 in hex");
  return digest;
}

}  // namespace wg::regulator
