#include "metrics.h"

#include <prometheus/text_serializer.h>

#include <mutex>

namespace wg::api {

namespace {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
  return kBuckets;
}

}  // namespace

ApiMetrics::ApiMetrics(std::vector<std::string> route_labels)
    : labels_(std::move(route_labels)),
      unmatched_(labels_.size()),
      requests_(prometheus::BuildCounter()
                    .Name("http_requests_total")
                    .Help("HTTP requests by route pattern, method and status code")
                    .Register(registry_)),
      durations_(prometheus::BuildHistogram()
                     .Name("http_request_duration_seconds")
                     .Help("Time from routing to response, by route pattern")
                     .Register(registry_)),
      verifications_(prometheus::BuildCounter()
                         .Name("wg_verifications_total")
                         .Help("Certificate verifications by verdict")
                         .Register(registry_)),
      index_workers_(prometheus::BuildGauge()
                         .Name("wg_index_workers")
                         .Help("Workers in the in-memory certificate index")
                         .Register(registry_)
                         .Add({})),
      index_certificates_(prometheus::BuildGauge()
                              .Name("wg_index_certificates")
                              .Help("Certificates in the in-memory certificate index")
                              .Register(registry_)
                              .Add({})),
      sessions_cached_(prometheus::BuildGauge()
                           .Name("wg_sessions_cached")
                           .Help("Bearer-token sessions held in the API's cache")
                           .Register(registry_)
                           .Add({})) {
  labels_.push_back("unmatched");
  histograms_.reserve(labels_.size());
  for (const std::string& label : labels_) {
    histograms_.push_back(&durations_.Add({{"route", label}}, LatencyBuckets()));
  }
  for (std::size_t v = 0; v < kVerdicts; ++v) {
    verdict_counters_[v] = &verifications_.Add(
        {{"verdict", std::string(registry::VerdictName(static_cast<registry::Verdict>(v)))}});
  }
}

prometheus::Counter& ApiMetrics::RequestCounter(std::size_t route, Method method, int http_status) {
  const std::uint64_t key = (static_cast<std::uint64_t>(route) << 32) |
                            (static_cast<std::uint64_t>(method) << 16) |
                            static_cast<std::uint64_t>(http_status & 0xffff);
  {
    std::shared_lock lock(mu_);
    auto it = request_counters_.find(key);
    if (it != request_counters_.end()) return *it->second;
  }
  prometheus::Counter& c = requests_.Add({{"route", labels_[route]},
                                          {"method", std::string(MethodName(method))},
                                          {"code", std::to_string(http_status)}});
  std::unique_lock lock(mu_);
  request_counters_.emplace(key, &c);
  return c;
}

void ApiMetrics::ObserveRequest(std::size_t route, Method method, int http_status, double seconds) {
  if (route > unmatched_) route = unmatched_;
  RequestCounter(route, method, http_status).Increment();
  histograms_[route]->Observe(seconds);
}

void ApiMetrics::CountVerification(registry::Verdict verdict) {
  const auto v = static_cast<std::size_t>(verdict);
  if (v < kVerdicts) verdict_counters_[v]->Increment();
}

void ApiMetrics::SetGauges(std::size_t workers, std::size_t certificates, std::size_t sessions) {
  index_workers_.Set(static_cast<double>(workers));
  index_certificates_.Set(static_cast<double>(certificates));
  sessions_cached_.Set(static_cast<double>(sessions));
}

std::string ApiMetrics::Render() const {
  return prometheus::TextSerializer().Serialize(registry_.Collect());
}

}  // namespace wg::api
