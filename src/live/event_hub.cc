// EventHub: the live stream's fan-out. One mutex for the hub; each subscriber has its own
// condition variable, a queue of alarm/permit/status events (never dropped: a subscriber
// letting max_events of them pile up is closed) and the latest pending reading per point
// and position per tag (coalesced by type and key: "reading" events keyed by the point,
// "position" events by "tag:<id>"; past max_events distinct keys the oldest pending one is
// dropped and counted).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "wg/live/service.h"

namespace wg::live {

struct EventHub::Subscription {
  core::OrgId org;
  std::string site;
  std::deque<StreamEvent> important;
  std::unordered_map<std::string, StreamEvent> readings;  // type + '\n' + key -> latest
  std::condition_variable cv;
  bool closed = false;
};

struct EventHub::State {
  mutable std::mutex mu;
  std::vector<std::shared_ptr<Subscription>> subs;
  bool closed = false;
  std::int64_t next_id = 1;
  std::uint64_t dropped = 0;
  std::size_t max_subscribers = 256;
  std::size_t max_events = 4096;
};

EventHub::EventHub(std::size_t max_subscribers, std::size_t max_events)
    : state_(std::make_shared<State>()) {
  state_->max_subscribers = std::max<std::size_t>(1, max_subscribers);
  state_->max_events = std::max<std::size_t>(1, max_events);
}

core::Result<std::shared_ptr<EventHub::Subscription>> EventHub::Subscribe(core::OrgId org,
                                                                        const std::string& site) {
  std::lock_guard lock(state_->mu);
  if (state_->closed) return core::Status::Unavailable("the event stream is shutting down");
  if (state_->subs.size() >= state_->max_subscribers) {
    return core::Status::ResourceExhausted("too many open streams (" +
                                           std::to_string(state_->max_subscribers) + ")");
  }
  auto s = std::make_shared<Subscription>();
  s->org = org;
  s->site = site;
  state_->subs.push_back(s);
  return s;
}

void EventHub::Unsubscribe(const std::shared_ptr<Subscription>& s) {
  if (!s) return;
  std::lock_guard lock(state_->mu);
  auto& v = state_->subs;
  v.erase(std::remove(v.begin(), v.end(), s), v.end());
  s->closed = true;
  s->cv.notify_all();
}

std::vector<StreamEvent> EventHub::Next(Subscription& s, core::Duration timeout, bool* closed) {
  std::unique_lock lock(state_->mu);
  auto ready = [&] { return s.closed || !s.important.empty() || !s.readings.empty(); };
  if (!ready() && timeout.micros > 0) {
    s.cv.wait_for(lock, std::chrono::microseconds(timeout.micros), ready);
  }
  std::vector<StreamEvent> out;
  out.reserve(s.important.size() + s.readings.size());
  for (auto& e : s.important) out.push_back(std::move(e));
  for (auto& [k, e] : s.readings) out.push_back(std::move(e));
  s.important.clear();
  s.readings.clear();
  if (closed != nullptr) *closed = s.closed;
  lock.unlock();
  std::sort(out.begin(), out.end(),
            [](const StreamEvent& a, const StreamEvent& b) { return a.id < b.id; });
  return out;
}

void EventHub::Publish(StreamEvent e) {
  std::lock_guard lock(state_->mu);
  if (state_->closed) return;
  e.id = state_->next_id++;
  // Readings and positions are state: only the latest per key matters to a viewer.
  const bool reading = (e.type == "reading" || e.type == "position") && !e.key.empty();
  const std::string slot = reading ? e.type + '\n' + e.key : std::string();
  for (auto it = state_->subs.begin(); it != state_->subs.end();) {
    Subscription& s = **it;
    if (s.org != e.org || (!s.site.empty() && s.site != e.site)) {
      ++it;
      continue;
    }
    if (reading) {
      auto [pos, fresh] = s.readings.insert_or_assign(slot, e);
      (void)pos;
      if (fresh && s.readings.size() > state_->max_events) {
        // Behind: drop the oldest pending reading.
        auto oldest = s.readings.begin();
        for (auto r = s.readings.begin(); r != s.readings.end(); ++r) {
          if (r->second.id < oldest->second.id) oldest = r;
        }
        s.readings.erase(oldest);
        ++state_->dropped;
      }
    } else {
      if (s.important.size() >= state_->max_events) {
        // Never drop an alarm or permit event silently: close the subscriber (it
        // reconnects and reloads the current state).
        state_->dropped += s.important.size() + s.readings.size() + 1;
        s.important.clear();
        s.readings.clear();
        s.closed = true;
        s.cv.notify_all();
        it = state_->subs.erase(it);
        continue;
      }
      s.important.push_back(e);
    }
    s.cv.notify_one();
    ++it;
  }
}

void EventHub::Close() {
  std::lock_guard lock(state_->mu);
  state_->closed = true;
  for (auto& s : state_->subs) {
    s->closed = true;
    s->cv.notify_all();
  }
  state_->subs.clear();
}

std::size_t EventHub::subscribers() const {
  std::lock_guard lock(state_->mu);
  return state_->subs.size();
}

std::uint64_t EventHub::dropped() const {
  std::lock_guard lock(state_->mu);
  return state_->dropped;
}

}  // namespace wg::live
