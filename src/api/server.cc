#include "wg/api/server.h"

#include <fcntl.h>
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <optional>
#include <thread>

#include "auth.h"
#include "errors.h"
#include "metrics.h"
#include "wg/web/assets.h"
#include "router.h"
#include "service.h"
#include "wg/core/strings.h"

namespace wg::api {

namespace {

using core::Status;

// cpp-httplib listens with a backlog of 5; a burst of clients needs far more.
constexpr int kListenBacklog = 1024;
constexpr std::size_t kKeepAliveMaxRequests = 10'000;
constexpr time_t kKeepAliveTimeoutSeconds = 5;
constexpr time_t kIoTimeoutSeconds = 30;

// The largest body any route accepts; each route enforces its own limit.
std::size_t TransportLimit(const ServerOptions& o) {
  return std::max({o.max_body_bytes, o.max_import_bytes, kMaxRawBodyBytes});
}

// A text path key: [A-Za-z0-9._-]{1,64}, not "." or "..".
bool IsTextKey(std::string_view k) {
  if (k.empty() || k.size() > 64 || k == "." || k == "..") return false;
  for (char ch : k) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

// Methods for which cpp-httplib reads a body and dispatches to content-reader handlers.
bool IsBodyMethod(std::string_view m) {
  return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE" || m == "PRI";
}

const std::string& HeaderRef(const httplib::Request& req, const std::string& name) {
  static const std::string kEmpty;
  auto it = req.headers.find(name);
  return it == req.headers.end() ? kEmpty : it->second;
}

// Messages for the statuses cpp-httplib produces on its own.
std::string ReasonPhrase(int status) {
  switch (status) {
    case 400:
      return "the request could not be parsed";
    case 404:
      return "not found";
    case 413:
      return "the request body is too large";
    case 414:
      return "the request URI is too long";
    case 416:
      return "the requested range is not satisfiable";
    case 500:
      return "internal error";
    default:
      return "HTTP status " + std::to_string(status);
  }
}

void WriteBody(httplib::Response& res, int status, std::string body,
               std::string_view content_type) {
  res.status = status;
  res.body = std::move(body);
  // set_content would copy the body; replace the header directly.
  res.headers.erase("Content-Type");
  if (!res.body.empty()) res.set_header("Content-Type", std::string(content_type));
}

void WriteError(httplib::Response& res, const Status& status) {
  WriteBody(res, HttpStatusFor(status.code()), ErrorBody(status), "application/json");
}

// A CSV upload written to a private temporary file, removed when this goes away.
class SpoolFile {
 public:
  static core::Result<std::unique_ptr<SpoolFile>> Create(const std::string& dir_option) {
    std::error_code ec;
    std::filesystem::path dir = dir_option.empty() ? std::filesystem::temp_directory_path(ec)
                                                   : std::filesystem::path(dir_option);
    if (ec) return Status::IoError("no temporary directory: " + ec.message());
    std::filesystem::create_directories(dir, ec);  // an error shows up in mkstemp below
    std::string path = (dir / "wg-import-XXXXXX").string();
    int fd = ::mkstemp(path.data());
    if (fd < 0) {
      return Status::IoError("cannot create a spool file in " + dir.string() + ": " +
                             std::strerror(errno));
    }
    return std::unique_ptr<SpoolFile>(new SpoolFile(fd, std::move(path)));
  }
  ~SpoolFile() {
    Close();
    ::unlink(path_.c_str());
  }
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  bool Write(const char* data, std::size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, data, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      data += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  }
  Status Finish() {
    if (error_ != 0)
      return Status::IoError(std::string("writing the spool file: ") + std::strerror(error_));
    if (::fsync(fd_) != 0 && errno != EINVAL) {
      return Status::IoError(std::string("syncing the spool file: ") + std::strerror(errno));
    }
    Close();
    return Status::Ok();
  }
  const std::string& path() const { return path_; }

 private:
  SpoolFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_;
  std::string path_;
  int error_ = 0;
};

}  // namespace

class ApiServer::Impl {
 public:
  Impl(store::Store& store, registry::Registry& registry, const core::Clock& clock,
       ServerOptions options);
  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  int port() const { return port_; }
  std::vector<std::string> Routes() const { return router_.Describe(); }
  ApiService& service() { return service_; }

 private:
  void Handle(const httplib::Request& req, httplib::Response& res,
              const httplib::ContentReader* reader);
  Status Dispatch(const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader* reader, const RouteMatch& match);
  // Reads the body of `spec`'s kind into `json` or `spool`.
  Status ReadBody(const RouteSpec& spec, const httplib::Request& req,
                  const httplib::ContentReader* reader, core::Json* json,
                  std::unique_ptr<SpoolFile>* spool, std::string* raw_text);
  // Reads and discards the body so the connection stays in step with the client.
  void Drain(const httplib::Request& req, const httplib::ContentReader* reader);
  void Configure();
  // GET/HEAD of the browser application's files (wg/web/assets.h): 200 with ETag,
  // 304 on a matching If-None-Match, the page with its Content-Security-Policy.
  void ServeAsset(const httplib::Request& req, httplib::Response& res, const web::Asset& a);

  const ServerOptions options_;
  std::unique_ptr<web::AssetSource> assets_;
  std::vector<const RouteSpec*> specs_;  // by router index
  Router router_;
  Authenticator auth_;
  ApiMetrics metrics_;
  ApiService service_;
  std::atomic<int> imports_running_{0};

  httplib::Server http_;
  std::thread listener_;
  std::atomic<bool> listener_done_{false};
  int port_ = 0;
  int listen_fd_ = -1;
};

namespace {

std::vector<std::string> RouteLabels() {
  std::vector<std::string> labels;
  for (const RouteSpec& r : RouteTable()) labels.emplace_back(r.pattern);
  return labels;
}

}  // namespace

ApiServer::Impl::Impl(store::Store& store, registry::Registry& registry, const core::Clock& clock,
                      ServerOptions options)
    : options_(std::move(options)),
      auth_(store, clock, options_.token_ttl),
      metrics_(RouteLabels()),
      service_(store, registry, clock, options_, auth_, metrics_) {
  for (const RouteSpec& r : RouteTable()) {
    router_.Add(r.method, r.pattern);
    specs_.push_back(&r);
  }
  Configure();
}

void ApiServer::Impl::Configure() {
  const std::size_t threads = static_cast<std::size_t>(std::max(1, options_.threads));
  // httplib takes ownership of the queue it is handed (a unique_ptr in listen_internal).
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_.set_tcp_nodelay(true);
  http_.set_keep_alive_max_count(kKeepAliveMaxRequests);
  http_.set_keep_alive_timeout(kKeepAliveTimeoutSeconds);
  http_.set_read_timeout(kIoTimeoutSeconds);
  http_.set_write_timeout(kIoTimeoutSeconds);
  // The transport limit is the largest route limit; each route enforces its own.
  http_.set_payload_max_length(TransportLimit(options_));
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which would let a second
  // server bind the same port silently. The socket is remembered to widen the backlog.
  http_.set_socket_options([this](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd_ = sock;
  });

  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // Bodies are read by the content-reader handlers below; everything else (GET, HEAD,
    // OPTIONS, unknown methods) is answered here without httplib's regex dispatch.
    if (IsBodyMethod(req.method)) return httplib::Server::HandlerResponse::Unhandled;
    Handle(req, res, nullptr);
    return httplib::Server::HandlerResponse::Handled;
  });
  auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) { Handle(req, res, &reader); };
  const std::string any_path = "[\\s\\S]*";
  http_.Post(any_path, with_body);
  http_.Put(any_path, with_body);
  http_.Patch(any_path, with_body);
  http_.Delete(any_path, with_body);

  // Responses httplib produces itself (malformed request line, URI too long, ...) get
  // the API's JSON error shape; responses that already have a body are left alone.
  http_.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        WriteBody(res, res.status,
                  ErrorBody(ErrorCodeForHttpStatus(res.status), ReasonPhrase(res.status), ""),
                  "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  http_.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("api: unhandled exception in {} {}: {}", req.method, req.path, what);
        WriteError(res, Status::Internal("unhandled exception"));
      });
}

void ApiServer::Impl::Handle(const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader* reader) {
  const auto started = std::chrono::steady_clock::now();
  const Method method = ParseMethod(req.method);
  const RouteMatch match = router_.Match(method, req.path);

  // Counts the request once it is answered, as a 500 when a handler throws (the
  // exception then reaches httplib's exception handler, which writes the 500 body).
  struct Observation {
    ApiMetrics& metrics;
    const httplib::Response& res;
    std::size_t route;
    Method method;
    std::chrono::steady_clock::time_point started;
    int exceptions = std::uncaught_exceptions();
    ~Observation() {
      const int status = std::uncaught_exceptions() > exceptions ? 500 : res.status;
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
      metrics.ObserveRequest(route, method, status, elapsed.count());
    }
  } observation{metrics_, res,
                match.kind == RouteMatch::Kind::kFound ? match.index : metrics_.unmatched(), method,
                started};

  Status s = Dispatch(req, res, reader, match);
  if (!s.ok()) {
    if (HttpStatusFor(s.code()) >= 500) {
      spdlog::error("api: {} {} failed: {}", req.method, req.path, s.ToString());
    }
    WriteError(res, s);
  }
}

Status ApiServer::Impl::Dispatch(const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader* reader, const RouteMatch& match) {
  if (match.kind == RouteMatch::Kind::kNotFound) {
    Drain(req, reader);
    const Method method = ParseMethod(req.method);
    if (reader == nullptr && assets_ && (method == Method::kGet || method == Method::kHead) &&
        web::IsAssetPath(req.path)) {
      auto asset = assets_->Find(req.path);
      if (asset.has_value()) {
        ServeAsset(req, res, *asset);
        return Status::Ok();
      }
      return Status::NotFound("no file " + req.path.substr(0, 200), "path");
    }
    return Status::NotFound("no route for " + req.method + " " + req.path.substr(0, 200));
  }
  if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
    Drain(req, reader);
    res.set_header("Allow", match.allow);
    WriteBody(res, 405,
              ErrorBody(kMethodNotAllowedCode,
                        req.method + " is not allowed here; allowed: " + match.allow, ""),
              "application/json");
    return Status::Ok();
  }
  // cpp-httplib never reads the body of a GET/HEAD/OPTIONS; refuse one rather than act
  // on a request whose body may be misread as the next request.
  if (reader == nullptr &&
      (req.has_header("Transfer-Encoding") ||
       (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0"))) {
    return Status::InvalidArgument(req.method + " requests must not have a body", "body");
  }

  const RouteSpec& spec = *specs_[match.index];
  Call call{req, nullptr, 0, nullptr, {}};
  Session session;
  if (spec.roles != 0) {
    auto authenticated = auth_.Authenticate(HeaderRef(req, "Authorization"));
    if (!authenticated.has_value()) {
      Drain(req, reader);
      res.set_header("WWW-Authenticate", "Bearer");
      return authenticated.error();
    }
    session = *authenticated;
    if ((spec.roles & RoleBit(session.role)) == 0) {
      Drain(req, reader);
      return Status::PermissionDenied("role '" + std::string(domain::RoleName(session.role)) +
                                      "' may not call " + std::string(MethodName(spec.method)) +
                                      " " + std::string(spec.pattern));
    }
    call.session = &session;
  }
  if (!match.param.empty() && spec.id_kind == IdKind::kText) {
    if (!IsTextKey(match.param)) {
      Drain(req, reader);
      return Status::InvalidArgument("must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'",
                                     "id");
    }
    call.key = std::string(match.param);
  } else if (!match.param.empty()) {
    auto id = core::ParseInt(match.param, 1, std::numeric_limits<std::int64_t>::max(), "id");
    if (!id.has_value()) {
      Drain(req, reader);
      return id.error();
    }
    call.id = *id;
  }

  core::Json json;
  std::unique_ptr<SpoolFile> spool;
  struct ImportSlot {
    std::atomic<int>* running = nullptr;
    ~ImportSlot() {
      if (running) running->fetch_sub(1);
    }
  } import_slot;
  if (spec.body == BodyKind::kCsv) {
    if (imports_running_.fetch_add(1) > 0) {
      imports_running_.fetch_sub(1);
      Drain(req, reader);
      res.set_header("Retry-After", "5");
      return Status::Unavailable("another import is running; retry when it has finished");
    }
    import_slot.running = &imports_running_;
  }
  WG_RETURN_IF_ERROR(ReadBody(spec, req, reader, &json, &spool, &call.raw));
  if (spec.body == BodyKind::kJson) call.body = &json;
  if (spool) call.spool_path = spool->path();

  WG_ASSIGN_OR_RETURN(Reply reply, (service_.*spec.handler)(call));
  for (auto& [name, value] : reply.headers) res.set_header(name, value);
  if (reply.stream) {
    res.status = reply.status;
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");  // reverse proxies: do not buffer the stream
    res.set_chunked_content_provider(std::string(reply.content_type), std::move(reply.stream),
                                     std::move(reply.stream_done));
    return Status::Ok();
  }
  if (!reply.download_type.empty()) {
    // RFC 6266 / 5987: the (UTF-8) file name percent-encoded; the type served as stored.
    std::string encoded;
    for (unsigned char ch : reply.download_name) {
      const bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                         (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
      if (plain) {
        encoded.push_back(static_cast<char>(ch));
      } else {
        static const char* kHex = "0123456789ABCDEF";
        encoded += '%';
        encoded += kHex[ch >> 4];
        encoded += kHex[ch & 0x0F];
      }
    }
    res.set_header("Content-Disposition", "attachment; filename*=UTF-8''" + encoded);
    res.set_header("X-Content-Type-Options", "nosniff");
    WriteBody(res, reply.status, std::move(reply.body), reply.download_type);
    return Status::Ok();
  }
  WriteBody(res, reply.status, std::move(reply.body), reply.content_type);
  return Status::Ok();
}

void ApiServer::Impl::Drain(const httplib::Request& req, const httplib::ContentReader* reader) {
  if (reader == nullptr) return;
  if (req.is_multipart_form_data()) {
    (*reader)([](const httplib::MultipartFormData&) { return true; },
              [](const char*, std::size_t) { return true; });
    return;
  }
  const std::size_t cap = TransportLimit(options_);
  std::size_t total = 0;
  (*reader)([&](const char*, std::size_t n) {
    total += n;
    return total <= cap;
  });
}

Status ApiServer::Impl::ReadBody(const RouteSpec& spec, const httplib::Request& req,
                                 const httplib::ContentReader* reader, core::Json* json,
                                 std::unique_ptr<SpoolFile>* spool, std::string* raw_text) {
  if (spec.body == BodyKind::kNone || reader == nullptr) {
    Drain(req, reader);
    if (spec.body == BodyKind::kJson) {
      return Status::InvalidArgument("a JSON object body is required", "body");
    }
    if (spec.body == BodyKind::kRaw) return Status::InvalidArgument("a body is required", "body");
    return Status::Ok();
  }
  const std::string& content_type = HeaderRef(req, "Content-Type");
  if (req.is_multipart_form_data()) {
    Drain(req, reader);
    return Status::InvalidArgument("multipart bodies are not accepted; send the document itself",
                                   "Content-Type");
  }
  const bool csv = spec.body == BodyKind::kCsv;
  if (csv && !StartsWithIgnoreCase(content_type, "text/csv")) {
    Drain(req, reader);
    return Status::InvalidArgument("must be text/csv", "Content-Type");
  }
  const bool spooled = csv || spec.body == BodyKind::kUpload;
  const bool raw = spec.body == BodyKind::kRaw;
  const std::size_t limit = spooled ? options_.max_import_bytes
                            : raw   ? kMaxRawBodyBytes
                                    : options_.max_body_bytes;
  // Past the route's limit the rest is read and dropped (up to the transport limit), so
  // the reply is a 413 and the connection stays usable.
  const std::size_t cap = TransportLimit(options_);

  const std::uint64_t declared = req.get_header_value<std::uint64_t>("Content-Length");
  std::string text;
  if (spooled) {
    WG_ASSIGN_OR_RETURN(*spool, SpoolFile::Create(options_.import_tmp_dir));
  } else if (declared <= limit) {
    text.reserve(static_cast<std::size_t>(declared));
  }
  std::size_t total = 0;
  bool over = false;
  bool write_failed = false;
  const bool complete = (*reader)([&](const char* data, std::size_t n) {
    total += n;
    if (total > limit) {
      over = true;
      return total <= cap;
    }
    if (spooled) {
      if (!write_failed && !(*spool)->Write(data, n)) write_failed = true;
    } else {
      text.append(data, n);
    }
    return true;
  });
  // httplib itself skips a body whose declared length exceeds the transport limit.
  if (over || declared > limit) {
    return Status::ResourceExhausted(
        "the request body is larger than " + std::to_string(limit) + " bytes", "body");
  }
  if (!complete) {
    return Status::InvalidArgument("the request body could not be read", "body");
  }
  if (spooled) return (*spool)->Finish();
  if (raw) {
    *raw_text = std::move(text);
    return Status::Ok();
  }

  WG_ASSIGN_OR_RETURN(
      *json, core::ParseJson(text, core::JsonLimits{limit, options_.json_max_depth}, "body"));
  return core::RequireObject(*json, "body");
}

void ApiServer::Impl::ServeAsset(const httplib::Request& req, httplib::Response& res,
                                 const web::Asset& a) {
  res.set_header("ETag", a.etag);
  // Revalidate every time: the files change with the binary (or on disk with --web-root),
  // and a 304 costs one small round trip.
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  if (a.html) {
    res.set_header("Content-Security-Policy", std::string(web::kContentSecurityPolicy));
    res.set_header("X-Frame-Options", "DENY");
  }
  if (HeaderRef(req, "If-None-Match") == a.etag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  // The embedded bytes live as long as the program; a file read from --web-root is kept
  // alive by the provider until httplib has sent it.
  std::shared_ptr<const std::string> owned = a.owned;
  const std::string_view body = a.body;
  res.set_content_provider(
      body.size(), std::string(a.content_type),
      [owned, body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        return sink.write(body.data() + offset, std::min(length, body.size() - offset));
      });
}

Status ApiServer::Impl::Start() {
  if (listener_.joinable()) return Status::FailedPrecondition("the server is already running");
  if (!assets_) {
    WG_ASSIGN_OR_RETURN(assets_, web::AssetSource::Create(options_.web_root));
  }
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
  if (listen_fd_ >= 0) ::listen(listen_fd_, kListenBacklog);
  port_ = port;
  listener_done_.store(false);
  listener_ = std::thread([this] {
    if (!http_.listen_after_bind()) spdlog::error("api: the HTTP listener stopped with an error");
    listener_done_.store(true);
  });
  for (int i = 0; i < 5000 && !http_.is_running() && !listener_done_.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  spdlog::info("api: listening on {}:{}", options_.host, port_);
  return Status::Ok();
}

void ApiServer::Impl::Stop() {
  if (!listener_.joinable()) return;
  // stop() only acts once the accept loop runs.
  for (int i = 0; i < 5000 && !http_.is_running() && !listener_done_.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  http_.stop();
  listener_.join();
}

void ApiServer::SetAttachments(evidence::Attachments* attachments) {
  impl_->service().set_attachments(attachments);
}

void ApiServer::SetPermits(permit::PermitService* permits) {
  impl_->service().set_permits(permits);
}

void ApiServer::SetMonitor(live::MonitorService* monitor) {
  impl_->service().set_monitor(monitor);
}

void ApiServer::SetPresence(live::PresenceService* presence) {
  impl_->service().set_presence(presence);
}

ApiServer::ApiServer(store::Store& store, registry::Registry& registry, const core::Clock& clock,
                     ServerOptions options)
    : impl_(std::make_unique<Impl>(store, registry, clock, std::move(options))) {}

ApiServer::~ApiServer() = default;

core::Status ApiServer::Start() { return impl_->Start(); }
int ApiServer::port() const { return impl_->port(); }
void ApiServer::Stop() { impl_->Stop(); }
std::vector<std::string> ApiServer::RegisteredRoutes() const { return impl_->Routes(); }

}  // namespace wg::api
