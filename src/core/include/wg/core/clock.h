#pragma once
// Clock: the only way engines learn the time. Production code gets SystemClock; tests
// and replays inject FakeClock and move it explicitly, so expiry, review windows and
// token lifetimes are tested at exact boundaries. Implementations are thread-safe.

#include <atomic>

#include "wg/core/time.h"

namespace wg::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

// Wall-clock UTC time (std::chrono::system_clock).
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp start) : now_(start.micros) {}
  Timestamp Now() const override { return Timestamp{now_.load()}; }
  void Set(Timestamp t) { now_.store(t.micros); }
  void Advance(Duration d) { now_.fetch_add(d.micros); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace wg::core
