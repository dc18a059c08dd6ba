#include "metrics.h"

#include <prometheus/text_serializer.h>

#include <iterator>
#include <mutex>

namespace wg::api {

namespace {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
  return kBuckets;
}

// wg_ingest_latency_seconds: live::kLatencyBucketsUs in seconds.
const prometheus::Histogram::BucketBoundaries& IngestLatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = [] {
    prometheus::Histogram::BucketBoundaries b;
    for (double us : live::kLatencyBucketsUs) b.push_back(us / 1e6);
    return b;
  }();
  return kBuckets;
}

// Advances a counter to the cumulative value `v` (never backwards).
void AdvanceTo(prometheus::Counter& c, double v) {
  const double cur = c.Value();
  if (v > cur) c.Increment(v - cur);
}

prometheus::Family<prometheus::Counter>& CounterFamily(prometheus::Registry& r, const char* name,
                                                       const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

prometheus::Counter& OneCounter(prometheus::Registry& r, const char* name, const char* help) {
  return CounterFamily(r, name, help).Add({});
}

prometheus::Gauge& OneGauge(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
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
                           .Add({})),
      ingest_readings_(CounterFamily(registry_, "wg_ingest_readings_total",
                                     "Sensor readings submitted, by outcome "
                                     "(accepted, rejected, dropped)")),
      ingest_rejected_(CounterFamily(registry_, "wg_ingest_rejected_total",
                                     "Sensor readings rejected, by reason")),
      ingest_dropped_(CounterFamily(registry_, "wg_ingest_dropped_total",
                                    "Sensor readings lost because the intake queue stayed full "
                                    "past the producer's deadline")
                          .Add({})),
      queue_depth_(
          OneGauge(registry_, "wg_ingest_queue_depth", "Readings waiting in the intake queue")),
      queue_capacity_(OneGauge(registry_, "wg_ingest_queue_capacity",
                               "Capacity of the intake queue, in readings")),
      alarms_raised_(CounterFamily(registry_, "wg_alarms_raised_total", "Alarms raised, by level")),
      alarms_open_(
          OneGauge(registry_, "wg_alarms_open", "Alarms not yet cleared and acknowledged")),
      actions_(CounterFamily(registry_, "wg_actions_total",
                             "SOP actions (power lock, broadcast) sent to the actuator, "
                             "by result")),
      blocks_sealed_(CounterFamily(registry_, "wg_blocks_sealed_total",
                                   "Reading blocks sealed into the evidence log")
                         .Add({})),
      notifications_pending_(OneGauge(registry_, "wg_notifications_pending",
                                      "Notifications in the outbox not yet delivered")),
      broker_dropped_(OneGauge(registry_, "wg_broker_dropped",
                               "Messages the MQTT broker reports dropped (-1: unknown)")),
      ingest_latency_(prometheus::BuildHistogram()
                          .Name("wg_ingest_latency_seconds")
                          .Help("Time from a reading's submission to the end of its processing")
                          .Register(registry_)
                          .Add({}, IngestLatencyBuckets())),
      predict_readings_(OneCounter(registry_, "wg_predict_readings_total",
                                   "Readings folded into early-warning forecasts")),
      predict_warnings_(CounterFamily(registry_, "wg_predict_warnings_total",
                                      "Predicted alarms raised, cleared, or suppressed (the "
                                      "point's red alarm active, or too short a lead)")),
      predict_ns_(OneGauge(registry_, "wg_predict_ns_per_reading",
                           "Mean nanoseconds of forecast and warning policy per reading")),
      presence_received_(OneCounter(registry_, "wg_presence_fixes_received_total",
                                    "Position fixes submitted (HTTP and MQTT)")),
      presence_accepted_(OneCounter(registry_, "wg_presence_fixes_accepted_total",
                                    "Position fixes accepted by the presence engine")),
      presence_rejected_(CounterFamily(registry_, "wg_presence_fixes_rejected_total",
                                       "Position fixes rejected, by reason")),
      presence_dropped_(OneCounter(registry_, "wg_presence_fixes_dropped_total",
                                   "Position fixes lost because the queue stayed full past the "
                                   "producer's deadline")),
      presence_events_(OneCounter(registry_, "wg_presence_events_total",
                                  "Fence events (entered, exited)")),
      presence_alarms_(OneCounter(registry_, "wg_presence_alarms_raised_total",
                                  "Alarms raised by the people-on-site rules")),
      presence_blocks_(OneCounter(registry_, "wg_presence_blocks_sealed_total",
                                  "Trajectory blocks sealed into the evidence log")),
      presence_persist_errors_(OneCounter(registry_, "wg_presence_persist_errors_total",
                                          "People-on-site records that could not be stored")),
      presence_queue_depth_(OneGauge(registry_, "wg_presence_queue_depth",
                                     "Position fixes waiting in the presence queue")),
      presence_queue_capacity_(OneGauge(registry_, "wg_presence_queue_capacity",
                                        "Capacity of the presence queue, in fixes")),
      presence_tags_(OneGauge(registry_, "wg_presence_tags", "Tags known to the presence engine")),
      presence_fences_(
          OneGauge(registry_, "wg_presence_fences", "Zone fences known to the presence engine")),
      presence_permits_(OneGauge(registry_, "wg_presence_permits",
                                 "Open permits known to the presence engine")) {
  labels_.push_back("unmatched");
  histograms_.reserve(labels_.size());
  for (const std::string& label : labels_) {
    histograms_.push_back(&durations_.Add({{"route", label}}, LatencyBuckets()));
  }
  for (const char* outcome : {"accepted", "rejected", "dropped"}) {
    ingest_readings_.Add({{"outcome", outcome}});
  }
  for (monitor::Level l : {monitor::Level::kBlue, monitor::Level::kYellow, monitor::Level::kRed}) {
    alarms_raised_.Add({{"level", std::string(monitor::LevelName(l))}});
  }
  for (const char* result : {"sent", "failed"}) actions_.Add({{"result", result}});
  broker_dropped_.Set(-1);
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

void ApiMetrics::SetMonitor(const live::IngestStats& st) {
  std::lock_guard lock(monitor_mu_);
  std::uint64_t rejected = 0;
  for (const auto& [reason, n] : st.rejected) {
    rejected += n;
    AdvanceTo(ingest_rejected_.Add({{"reason", reason}}), static_cast<double>(n));
  }
  AdvanceTo(ingest_readings_.Add({{"outcome", "accepted"}}), static_cast<double>(st.accepted));
  AdvanceTo(ingest_readings_.Add({{"outcome", "rejected"}}), static_cast<double>(rejected));
  AdvanceTo(ingest_readings_.Add({{"outcome", "dropped"}}), static_cast<double>(st.dropped));
  AdvanceTo(ingest_dropped_, static_cast<double>(st.dropped));
  queue_depth_.Set(static_cast<double>(st.queue_depth));
  queue_capacity_.Set(static_cast<double>(st.queue_capacity));
  for (const auto& [level, n] : st.alarms_raised) {
    AdvanceTo(alarms_raised_.Add({{"level", level}}), static_cast<double>(n));
  }
  alarms_open_.Set(static_cast<double>(st.open_alarms));
  AdvanceTo(actions_.Add({{"result", "sent"}}), static_cast<double>(st.actions_sent));
  AdvanceTo(actions_.Add({{"result", "failed"}}), static_cast<double>(st.actions_failed));
  AdvanceTo(blocks_sealed_, static_cast<double>(st.blocks_sealed));
  notifications_pending_.Set(static_cast<double>(st.notifications_pending));
  broker_dropped_.Set(static_cast<double>(st.broker_dropped));
  AdvanceTo(predict_readings_, static_cast<double>(st.predict_readings));
  AdvanceTo(predict_warnings_.Add({{"event", "raised"}}),
            static_cast<double>(st.predict_warnings_raised));
  AdvanceTo(predict_warnings_.Add({{"event", "cleared"}}),
            static_cast<double>(st.predict_warnings_cleared));
  AdvanceTo(predict_warnings_.Add({{"event", "suppressed"}}),
            static_cast<double>(st.predict_suppressed));
  predict_ns_.Set(st.predict_ns_per_reading);

  // The latency histogram: the service keeps cumulative bucket counts ("<= bound");
  // prometheus-cpp takes per-bucket increments, the last one for +Inf.
  constexpr std::size_t kBounds = std::size(live::kLatencyBucketsUs);
  if (st.latency_count < latency_count_seen_) return;  // a restarted service: keep ours
  std::vector<std::uint64_t> cum(kBounds, 0);
  for (std::size_t i = 0; i < kBounds; ++i) {
    cum[i] = i < st.latency_buckets.size() ? st.latency_buckets[i]
                                           : (i > 0 ? cum[i - 1] : 0);
  }
  latency_seen_.resize(kBounds, 0);
  std::vector<double> inc(kBounds + 1, 0);
  std::uint64_t prev_now = 0, prev_seen = 0;
  for (std::size_t i = 0; i < kBounds; ++i) {
    const std::uint64_t now_in = cum[i] >= prev_now ? cum[i] - prev_now : 0;
    const std::uint64_t seen_in =
        latency_seen_[i] >= prev_seen ? latency_seen_[i] - prev_seen : 0;
    inc[i] = now_in > seen_in ? static_cast<double>(now_in - seen_in) : 0;
    prev_now = cum[i];
    prev_seen = latency_seen_[i];
  }
  const std::uint64_t inf_now = st.latency_count >= prev_now ? st.latency_count - prev_now : 0;
  const std::uint64_t inf_seen =
      latency_count_seen_ >= prev_seen ? latency_count_seen_ - prev_seen : 0;
  inc[kBounds] = inf_now > inf_seen ? static_cast<double>(inf_now - inf_seen) : 0;
  const double sum = (st.latency_sum_us - latency_sum_seen_us_) / 1e6;
  bool any = false;
  for (double v : inc) any = any || v > 0;
  if (any) ingest_latency_.ObserveMultiple(inc, sum > 0 ? sum : 0);
  latency_seen_ = std::move(cum);
  latency_count_seen_ = st.latency_count;
  latency_sum_seen_us_ = st.latency_sum_us;
}

void ApiMetrics::SetPresence(const live::PresenceStats& st) {
  std::lock_guard lock(presence_mu_);
  AdvanceTo(presence_received_, static_cast<double>(st.received));
  AdvanceTo(presence_accepted_, static_cast<double>(st.accepted));
  for (const auto& [reason, n] : st.rejected) {
    AdvanceTo(presence_rejected_.Add({{"reason", reason}}), static_cast<double>(n));
  }
  AdvanceTo(presence_dropped_, static_cast<double>(st.dropped));
  AdvanceTo(presence_events_, static_cast<double>(st.events));
  AdvanceTo(presence_alarms_, static_cast<double>(st.alarms_raised));
  AdvanceTo(presence_blocks_, static_cast<double>(st.blocks_sealed));
  AdvanceTo(presence_persist_errors_, static_cast<double>(st.persist_errors));
  presence_queue_depth_.Set(static_cast<double>(st.queue_depth));
  presence_queue_capacity_.Set(static_cast<double>(st.queue_capacity));
  presence_tags_.Set(static_cast<double>(st.tags));
  presence_fences_.Set(static_cast<double>(st.fences));
  presence_permits_.Set(static_cast<double>(st.permits));
}

std::string ApiMetrics::Render() const {
  return prometheus::TextSerializer().Serialize(registry_.Collect());
}

}  // namespace wg::api
