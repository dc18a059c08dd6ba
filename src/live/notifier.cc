// Webhook delivery with libcurl: one POST per notification row, 2 s timeouts,
// TCP_NODELAY; the service's notifier thread marks each row delivered or failed and
// schedules the retry (internal::RetryDelay).
#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <mutex>

#include "internal.h"

namespace wg::live::internal {

std::string NumberText(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  if (r.ec != std::errc()) return "0";
  return std::string(buf, r.ptr);
}

core::Duration RetryDelay(int attempts) {
  const int shift = std::clamp(attempts, 0, 20);
  const std::int64_t s = std::min<std::int64_t>(std::int64_t{1} << shift, 300);
  return core::Duration::Seconds(s);
}

namespace {

std::once_flag g_curl_once;

std::size_t Discard(char* /*ptr*/, std::size_t size, std::size_t n, void* /*user*/) {
  return size * n;
}

}  // namespace

core::Status PostJson(const std::string& url, const std::string& body) {
  std::call_once(g_curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return core::Status::Internal("curl_easy_init failed");
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "User-Agent: workguard-monitor");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return core::Status::Unavailable(curl_easy_strerror(rc));
  if (status < 200 || status >= 300) {
    return core::Status::Unavailable("HTTP " + std::to_string(status));
  }
  return core::Status::Ok();
}

}  // namespace wg::live::internal
