#pragma once
// ApiMetrics: the Prometheus series served on GET /metrics (text format 0.0.4).
//
//   http_requests_total{route,method,code}       counter
//   http_request_duration_seconds{route}         histogram
//   wg_verifications_total{verdict}              counter
//   wg_index_workers, wg_index_certificates      gauges (set at each scrape)
//   wg_sessions_cached                           gauge  (set at each scrape)
// Live monitoring (from live::IngestStats, brought up to date at each scrape):
//   wg_ingest_readings_total{outcome}            counter: accepted | rejected | dropped
//   wg_ingest_rejected_total{reason}             counter: decode reasons, unknown_point, ...
//   wg_ingest_dropped_total                      counter: lost past a producer's deadline
//   wg_ingest_queue_depth, wg_ingest_queue_capacity   gauges
//   wg_alarms_raised_total{level}                counter: blue | yellow | red
//   wg_alarms_open                               gauge
//   wg_actions_total{result}                     counter: sent | failed
//   wg_blocks_sealed_total                       counter
//   wg_notifications_pending                     gauge
//   wg_broker_dropped                            gauge (-1: unknown)
//   wg_ingest_latency_seconds                    histogram: Submit to end of processing
// Early warning (from live::IngestStats, with the live-monitoring series):
//   wg_predict_readings_total                    counter: readings folded into forecasts
//   wg_predict_warnings_total{event}             counter: raised | cleared | suppressed
//   wg_predict_ns_per_reading                    gauge: Update + warning policy, mean for
//                                                the current model (0: none yet)
// People on site (from live::PresenceStats, brought up to date at each scrape):
//   wg_presence_fixes_received_total             counter: position fixes submitted
//   wg_presence_fixes_accepted_total             counter
//   wg_presence_fixes_rejected_total{reason}     counter: decode reasons, verdicts
//   wg_presence_fixes_dropped_total              counter: lost past a producer's deadline
//   wg_presence_events_total                     counter: fence entered / exited events
//   wg_presence_alarms_raised_total              counter: raise ops passed to the monitor
//   wg_presence_blocks_sealed_total              counter: trajectory blocks sealed
//   wg_presence_persist_errors_total             counter
//   wg_presence_queue_depth, wg_presence_queue_capacity   gauges
//   wg_presence_tags, wg_presence_fences, wg_presence_permits   gauges: engine sizes
//
// `route` is the route pattern ("/api/v1/workers/{id}/verify"), never the raw path, and
// "unmatched" for requests no route matched, so label cardinality stays bounded.
// Thread-safe; the per-request path takes a shared lock and touches pre-resolved series.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "router.h"
#include "wg/live/presence_service.h"
#include "wg/live/service.h"
#include "wg/registry/verifier.h"

namespace wg::api {

class ApiMetrics {
 public:
  // route_labels[i] labels route index i; index route_labels.size() is "unmatched".
  explicit ApiMetrics(std::vector<std::string> route_labels);

  std::size_t unmatched() const { return unmatched_; }

  void ObserveRequest(std::size_t route, Method method, int http_status, double seconds);
  void CountVerification(registry::Verdict verdict);
  void SetGauges(std::size_t workers, std::size_t certificates, std::size_t sessions);
  // Brings the live-monitoring series up to `stats` (cumulative counts: counters advance
  // by the difference since the previous call).
  void SetMonitor(const live::IngestStats& stats);
  // Brings the people-on-site series up to `stats` (cumulative, as SetMonitor).
  void SetPresence(const live::PresenceStats& stats);

  std::string Render() const;

 private:
  static constexpr std::size_t kVerdicts =
      static_cast<std::size_t>(registry::Verdict::kUnknownWorker) + 1;

  prometheus::Counter& RequestCounter(std::size_t route, Method method, int http_status);

  std::vector<std::string> labels_;
  std::size_t unmatched_;
  prometheus::Registry registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Counter>& verifications_;
  prometheus::Gauge& index_workers_;
  prometheus::Gauge& index_certificates_;
  prometheus::Gauge& sessions_cached_;
  std::vector<prometheus::Histogram*> histograms_;  // by route index
  std::array<prometheus::Counter*, kVerdicts> verdict_counters_{};

  mutable std::shared_mutex mu_;
  std::unordered_map<std::uint64_t, prometheus::Counter*> request_counters_;

  // Live monitoring.
  prometheus::Family<prometheus::Counter>& ingest_readings_;
  prometheus::Family<prometheus::Counter>& ingest_rejected_;
  prometheus::Counter& ingest_dropped_;
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& queue_capacity_;
  prometheus::Family<prometheus::Counter>& alarms_raised_;
  prometheus::Gauge& alarms_open_;
  prometheus::Family<prometheus::Counter>& actions_;
  prometheus::Counter& blocks_sealed_;
  prometheus::Gauge& notifications_pending_;
  prometheus::Gauge& broker_dropped_;
  prometheus::Histogram& ingest_latency_;
  prometheus::Counter& predict_readings_;
  prometheus::Family<prometheus::Counter>& predict_warnings_;
  prometheus::Gauge& predict_ns_;
  std::mutex monitor_mu_;  // serialises SetMonitor
  std::vector<std::uint64_t> latency_seen_;  // cumulative buckets at the previous call
  std::uint64_t latency_count_seen_ = 0;
  double latency_sum_seen_us_ = 0;

  // People on site.
  prometheus::Counter& presence_received_;
  prometheus::Counter& presence_accepted_;
  prometheus::Family<prometheus::Counter>& presence_rejected_;
  prometheus::Counter& presence_dropped_;
  prometheus::Counter& presence_events_;
  prometheus::Counter& presence_alarms_;
  prometheus::Counter& presence_blocks_;
  prometheus::Counter& presence_persist_errors_;
  prometheus::Gauge& presence_queue_depth_;
  prometheus::Gauge& presence_queue_capacity_;
  prometheus::Gauge& presence_tags_;
  prometheus::Gauge& presence_fences_;
  prometheus::Gauge& presence_permits_;
  std::mutex presence_mu_;  // serialises SetPresence
};

}  // namespace wg::api
