// Engine: the live-monitoring state machine (see engine.h for the per-reading order).
//
// Layout for speed: every point has a dense "hot" record (last reading, fault timers and
// up to kInline compiled rules inline) in one vector indexed by PointIndex, and a "cold"
// record (configuration, rule texts, conditions, active profiles) touched only when an
// alarm changes state or the point is (re)compiled. Ingest in steady state reads and writes
// the hot record only: no allocation, no map lookup, no string work.
#include "wg/monitor/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <queue>
#include <set>
#include <unordered_map>

namespace wg::monitor {

namespace {

using core::Result;
using core::Status;
using core::Timestamp;

constexpr std::int64_t kNever = INT64_MIN;
constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr double kMicrosPerMinute = 60e6;
constexpr std::size_t kInline = 4;
constexpr PointIndex kNoPoint = UINT32_MAX;
constexpr std::string_view kSystemActor = "system:monitor";

// One rule compiled for one point, thresholds in the point's unit.
struct CompiledRule {
  double thr = 0;               // raise at: high v >= thr, low v <= thr, rate r >= thr
  double back = 0;              // back inside: high/rate v < back, low v > back
  std::int64_t for_us = 0;
  std::int64_t clear_for_us = 0;
  std::int64_t since = kNever;  // inactive: condition holding since; active: back since
  std::int64_t anchor_t = kNever;  // rate: start of the current window
  double anchor_v = 0;
  std::int64_t alarm = 0;       // open alarm of (point, rule); 0 = none
  double peak = 0;              // worst value while active
  std::int32_t window_s = 0;    // rate
  std::uint16_t def = 0;        // index into PointCold::defs
  RuleKind kind = RuleKind::kThresholdHigh;
  bool active = false;          // the alarm is active (not cleared)
  bool clear_only = false;      // rule switched off by profiles but its alarm is open
};

// An open alarm slot of a sensor-fault rule.
struct FaultSlot {
  std::int64_t alarm = 0;
  bool active = false;
};

struct PointHot {
  std::int64_t last_t = kNever;   // reading time of the last accepted reading
  double last_v = 0;
  std::int64_t last_seen = 0;     // engine time of the last accepted reading (or upsert)
  std::int64_t stale_us = 0;      // 0 = no stale rule
  std::int64_t flat_us = 0;       // 0 = off
  std::int64_t flat_since = kNever;
  double flat_v = 0;
  double range_min = -HUGE_VAL, range_max = HUGE_VAL;
  FaultSlot stale, flat, range;
  bool enabled = false;
  std::uint8_t n_inline = 0;
  CompiledRule rules[kInline];
  std::vector<CompiledRule> more;  // rules beyond kInline (rare: many point limits)

  std::size_t size() const { return n_inline + more.size(); }
  CompiledRule& rule(std::size_t k) { return k < kInline ? rules[k] : more[k - kInline]; }
  const CompiledRule& rule(std::size_t k) const {
    return k < kInline ? rules[k] : more[k - kInline];
  }
};

// What an alarm needs to know about its rule (cold).
struct RuleInfo {
  std::string id, clause, rule_kind;
  Level level = Level::kBlue;
  double threshold = 0;  // effective, in the point's unit
  std::string message_zh, message_en;
};

struct PointCold {
  PointConfig config;
  std::vector<RuleInfo> defs;          // compiled threshold/rate rules
  std::vector<std::string> conditions;
  std::vector<std::string> profiles;   // active profile ids
  const RuleDef* stale_rule = nullptr;
  const RuleDef* flat_rule = nullptr;
  const RuleDef* range_rule = nullptr;
};

struct AlarmRec {
  Alarm alarm;
  PointIndex point = kNoPoint;
};

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string FillMessage(std::string_view tmpl, const std::string& point, double value,
                        const std::string& unit, double threshold) {
  std::string out;
  out.reserve(tmpl.size() + 16);
  for (std::size_t i = 0; i < tmpl.size();) {
    auto sub = [&](std::string_view key, const std::string& with) {
      if (tmpl.substr(i, key.size()) != key) return false;
      out += with;
      i += key.size();
      return true;
    };
    if (tmpl[i] == '{' && (sub("{point}", point) || sub("{value}", Num(value)) ||
                           sub("{unit}", unit) || sub("{threshold}", Num(threshold)))) {
      continue;
    }
    out += tmpl[i++];
  }
  return out;
}

std::string AlarmKey(core::OrgId org, std::string_view point, std::string_view rule) {
  std::string k = std::to_string(org.value);
  k += '\x1f';
  k += point;
  k += '\x1f';
  k += rule;
  return k;
}

bool ValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
  });
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::string_view IngestVerdictName(IngestVerdict v) {
  switch (v) {
    case IngestVerdict::kAccepted: return "accepted";
    case IngestVerdict::kDuplicate: return "duplicate";
    case IngestVerdict::kOutOfOrder: return "out_of_order";
    case IngestVerdict::kNotFinite: return "not_finite";
    case IngestVerdict::kTooFarFuture: return "too_far_future";
    case IngestVerdict::kTooOld: return "too_old";
    case IngestVerdict::kDisabled: return "disabled";
  }
  return "accepted";
}

std::string_view EventKindName(EventKind k) {
  switch (k) {
    case EventKind::kRaised: return "raised";
    case EventKind::kReactivated: return "reactivated";
    case EventKind::kEscalated: return "escalated";
    case EventKind::kAcknowledged: return "acknowledged";
    case EventKind::kCleared: return "cleared";
    case EventKind::kClosed: return "closed";
  }
  return "raised";
}

struct Engine::Impl {
  const MonitorRulebook& book;
  EngineOptions options;
  std::vector<PointHot> hot;
  std::vector<PointCold> cold;
  std::map<std::pair<std::int64_t, std::string>, PointIndex, std::less<>> index;
  std::unordered_map<std::int64_t, AlarmRec> alarms;         // open alarms by id
  std::unordered_map<std::string, std::int64_t> open_by_key;  // (org, point, rule) -> id
  using Deadline = std::pair<std::int64_t, std::int64_t>;     // (deadline micros, alarm id)
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines;
  std::int64_t next_id = 1;
  unsigned month = 0;  // Asia/Shanghai month the profiles were selected for (0 = none yet)

  Impl(const MonitorRulebook& b, EngineOptions o) : book(b), options(o) {}

  // --- configuration ---------------------------------------------------------------

  core::Status Validate(const PointConfig& c) const {
    if (!c.org.valid()) return core::Status::InvalidArgument("organization required", "org");
    if (!ValidId(c.id)) return core::Status::InvalidArgument("expected [A-Za-z0-9._-]{1,64}", "id");
    const KindDef* kind = book.Kind(c.kind);
    if (kind == nullptr) return core::Status::InvalidArgument("unknown kind '" + c.kind + "'", "kind");
    if (kind->Unit(c.unit) == nullptr) {
      return core::Status::InvalidArgument(
          "unit '" + c.unit + "' not allowed for kind '" + c.kind + "'", "unit");
    }
    if (kind->needs_gas && c.gas.empty()) {
      return core::Status::InvalidArgument("kind '" + c.kind + "' needs the gas", "gas");
    }
    if (!c.gas.empty()) {
      const GasDef* g = book.Gas(c.gas);
      if (g == nullptr) return core::Status::InvalidArgument("unknown gas '" + c.gas + "'", "gas");
      if (!kind->gas.empty() && kind->gas != c.gas) {
        return core::Status::InvalidArgument("kind '" + c.kind + "' measures " + kind->gas, "gas");
      }
      if (kind->needs_gas && g->lel_vol_pct <= 0) {
        return core::Status::InvalidArgument("gas '" + c.gas + "' has no LEL", "gas");
      }
    }
    if (c.permits.size() > 16) return core::Status::InvalidArgument("at most 16 permits", "permits");
    if (c.stale_after_s && (*c.stale_after_s < 1 || *c.stale_after_s > 86400)) {
      return core::Status::InvalidArgument("must be between 1 and 86400", "stale_after_s");
    }
    if (c.limits.size() > 8) return core::Status::InvalidArgument("at most 8 limits", "limits");
    for (std::size_t i = 0; i < c.limits.size(); ++i) {
      const auto& l = c.limits[i];
      if (!std::isfinite(l.value) || !std::isfinite(l.clear_hysteresis) || l.clear_hysteresis < 0 ||
          l.for_s < 0 || l.for_s > 86400) {
        return core::Status::InvalidArgument("invalid limit", "limits[" + std::to_string(i) + "]");
      }
    }
    return core::Status::Ok();
  }

  void SyncMonth(Timestamp now) {
    unsigned m = core::ShanghaiDate(now).month();
    if (m == month) return;
    bool first = month == 0;
    month = m;
    if (!first) {
      for (PointIndex i = 0; i < hot.size(); ++i) Compile(i);
    }
  }

  std::vector<const ProfileDef*> ActiveProfiles(const PointCold& c) const {
    std::vector<const ProfileDef*> out;
    for (const auto& p : book.profiles()) {
      if (!p.months.empty() &&
          std::find(p.months.begin(), p.months.end(), static_cast<int>(month)) == p.months.end()) {
        continue;
      }
      if (!std::all_of(p.conditions.begin(), p.conditions.end(),
                       [&](const std::string& s) { return Contains(c.conditions, s); })) {
        continue;
      }
      if (!p.sites.empty() && !Contains(p.sites, c.config.site)) continue;
      out.push_back(&p);
    }
    return out;
  }

  // The open alarm of (point i, rule), now bound to point i (restored alarms may name a
  // point configured only later).
  std::int64_t BoundAlarm(PointIndex i, std::string_view rule, bool* active) {
    const PointConfig& cfg = cold[i].config;
    auto it = open_by_key.find(AlarmKey(cfg.org, cfg.id, rule));
    *active = false;
    if (it == open_by_key.end()) return 0;
    auto a = alarms.find(it->second);
    if (a == alarms.end()) return 0;
    a->second.point = i;
    *active = a->second.alarm.state == AlarmState::kActiveUnacked ||
              a->second.alarm.state == AlarmState::kActiveAcked;
    return it->second;
  }

  // (Re)compiles the rules of point i for its kind, unit, gas, conditions and the current
  // month, keeping the timers of rules that stay and binding open alarms by rule id.
  void Compile(PointIndex i) {
    PointHot& h = hot[i];
    PointCold& c = cold[i];
    const PointConfig& cfg = c.config;
    const KindDef& kind = *book.Kind(cfg.kind);
    const std::string gas = cfg.gas.empty() ? kind.gas : cfg.gas;
    const GasDef* g = book.Gas(gas);

    std::vector<CompiledRule> old;
    for (std::size_t k = 0; k < h.size(); ++k) old.push_back(h.rule(k));
    std::vector<RuleInfo> old_defs = std::move(c.defs);
    auto old_state = [&](std::string_view id) -> const CompiledRule* {
      for (const auto& r : old) {
        if (old_defs[r.def].id == id) return &r;
      }
      return nullptr;
    };

    auto profiles = ActiveProfiles(c);
    c.profiles.clear();
    for (const auto* p : profiles) c.profiles.push_back(p->id);

    std::vector<CompiledRule> out;
    c.defs.clear();
    auto add = [&](RuleInfo info, RuleKind rk, double thr, double hyst, std::int64_t for_s,
                   std::int64_t clear_for_s, std::int64_t window_s, bool enabled) {
      bool active = false;
      std::int64_t alarm = BoundAlarm(i, info.id, &active);
      if (!enabled && alarm == 0) return;
      CompiledRule r;
      if (const CompiledRule* o = old_state(info.id)) r = *o;
      if (r.kind != rk || r.window_s != window_s) r.anchor_t = kNever;
      r.kind = rk;
      r.thr = thr;
      r.back = rk == RuleKind::kThresholdLow ? thr + hyst : thr - hyst;
      r.for_us = for_s * kMicrosPerSecond;
      r.clear_for_us = clear_for_s * kMicrosPerSecond;
      r.window_s = static_cast<std::int32_t>(window_s);
      r.clear_only = !enabled;
      if (r.alarm != alarm || r.active != active) {
        r.since = kNever;
        if (active && r.alarm != alarm) r.peak = alarms.at(alarm).alarm.peak;
      }
      r.alarm = alarm;
      r.active = active;
      r.def = static_cast<std::uint16_t>(c.defs.size());
      info.threshold = thr;
      c.defs.push_back(std::move(info));
      out.push_back(r);
    };

    for (const auto& rd : book.rules()) {
      if (rd.kind != RuleKind::kThresholdHigh && rd.kind != RuleKind::kThresholdLow &&
          rd.kind != RuleKind::kRate) {
        continue;
      }
      if (rd.point_kind != cfg.kind) continue;
      if (!rd.gas.empty() && rd.gas != gas) continue;
      if (rd.gas_lel_min > 0 || rd.gas_lel_max > 0) {
        if (g == nullptr || g->lel_vol_pct <= 0) continue;
        if (g->lel_vol_pct < rd.gas_lel_min) continue;
        if (rd.gas_lel_max > 0 && g->lel_vol_pct >= rd.gas_lel_max) continue;
      }
      auto factor = book.UnitFactor(rd.unit, cfg.unit, kind, gas);
      if (!factor) continue;
      double value = rd.value;
      Level level = rd.level;
      bool enabled = !rd.profile_only;
      for (const auto* p : profiles) {
        for (const auto& adj : p->adjust) {
          if (!Contains(adj.rules, rd.id) && !Contains(adj.kinds, rd.point_kind)) continue;
          if (adj.enable) enabled = true;
          if (adj.factor) value *= *adj.factor;
          if (adj.value) value = *adj.value;
          if (adj.level) level = *adj.level;
        }
      }
      RuleInfo info{rd.id, rd.clause, std::string(RuleKindName(rd.kind)), level, 0,
                    rd.message_zh, rd.message_en};
      add(std::move(info), rd.kind, value * *factor, rd.clear_hysteresis * *factor, rd.for_s,
          rd.clear_for_s, rd.kind == RuleKind::kRate ? rd.window_s : 0, enabled);
    }
    for (std::size_t n = 0; n < cfg.limits.size(); ++n) {
      const PointLimit& l = cfg.limits[n];
      std::string what_zh = l.high ? "高于上限" : "低于下限";
      std::string what_en = l.high ? "reached the high limit" : "reached the low limit";
      RuleInfo info{"point." + cfg.id + "." + std::to_string(n), "point configuration",
                    l.high ? "threshold_high" : "threshold_low", l.level, 0,
                    "{point} 读数 {value}{unit}，" + what_zh + " {threshold}{unit}",
                    "{point}: {value} {unit} " + what_en + " {threshold} {unit}"};
      add(std::move(info), l.high ? RuleKind::kThresholdHigh : RuleKind::kThresholdLow, l.value,
          l.clear_hysteresis, l.for_s, 0, 0, true);
    }

    h.n_inline = static_cast<std::uint8_t>(std::min(out.size(), kInline));
    for (std::size_t k = 0; k < h.n_inline; ++k) h.rules[k] = out[k];
    h.more.assign(out.begin() + static_cast<std::ptrdiff_t>(h.n_inline), out.end());

    // Sensor-fault rules: the first rule of each kind for this point kind (or every kind).
    c.stale_rule = c.flat_rule = c.range_rule = nullptr;
    for (const auto& rd : book.rules()) {
      if (!rd.point_kind.empty() && rd.point_kind != cfg.kind) continue;
      if (rd.kind == RuleKind::kStale && c.stale_rule == nullptr) c.stale_rule = &rd;
      if (rd.kind == RuleKind::kFlatline && c.flat_rule == nullptr) c.flat_rule = &rd;
      if (rd.kind == RuleKind::kRange && c.range_rule == nullptr) c.range_rule = &rd;
    }
    h.stale_us = c.stale_rule ? cfg.stale_after_s.value_or(kind.stale_after_s) * kMicrosPerSecond
                              : 0;
    std::int64_t flat_us = c.flat_rule ? kind.flatline_s * kMicrosPerSecond : 0;
    if (flat_us != h.flat_us) h.flat_since = kNever;
    h.flat_us = flat_us;
    const KindDef::UnitRange* ur = kind.Unit(cfg.unit);
    h.range_min = c.range_rule ? ur->min : -HUGE_VAL;
    h.range_max = c.range_rule ? ur->max : HUGE_VAL;
    auto bind = [&](FaultSlot& s, const RuleDef* rd) {
      s.alarm = rd ? BoundAlarm(i, rd->id, &s.active) : 0;
      if (rd == nullptr) s.active = false;
    };
    bind(h.stale, c.stale_rule);
    bind(h.flat, c.flat_rule);
    bind(h.range, c.range_rule);
    h.enabled = cfg.enabled;
  }

  // --- alarm transitions (cold path) -------------------------------------------------

  void EmitActions(const Alarm& a, Level level, Timestamp now, Emissions& out) {
    const SopLevel& sop = book.Sop(level);
    if (!a.actions.empty()) {
      EmitOwnActions(a, level, now, out);
      return;
    }
    for (ActionKind k : sop.actions) {
      Action act;
      act.kind = k;
      act.alarm_id = a.id;
      act.org = a.org;
      act.site = a.site;
      act.zone = a.zone;
      act.point = a.point;
      act.level = level;
      if (k == ActionKind::kNotify) act.roles = sop.notify;
      act.permits = a.permits;
      act.reason = Reason(a);
      act.at = now;
      out.actions.push_back(std::move(act));
    }
  }

  // The actions an external alarm names itself (people on site).
  void EmitOwnActions(const Alarm& a, Level level, Timestamp now, Emissions& out) {
    const SopLevel& sop = book.Sop(level);
    for (const std::string& name : a.actions) {
      Action act;
      if (name == "notify") {
        act.kind = ActionKind::kNotify;
        act.roles = sop.notify;
      } else if (name == "suspend_permit") {
        act.kind = ActionKind::kSuspendPermits;
        act.permits_only = true;
      } else if (name == "broadcast") {
        act.kind = ActionKind::kBroadcast;
      } else if (name == "power_lock") {
        act.kind = ActionKind::kPowerLock;
      } else {
        continue;  // validated by RaiseExternal
      }
      act.alarm_id = a.id;
      act.org = a.org;
      act.site = a.site;
      act.zone = a.zone;
      act.point = a.point;
      act.level = level;
      if (act.kind == ActionKind::kSuspendPermits || act.kind == ActionKind::kNotify) {
        act.permits = a.permits;
      }
      act.reason = a.message_en.empty() ? Reason(a) : a.message_en;
      act.at = now;
      out.actions.push_back(std::move(act));
    }
  }

  static std::string Reason(const Alarm& a) {
    return std::string(LevelName(a.level)) + " alarm " + std::to_string(a.id) + " (" + a.rule +
           ", " + a.clause + ") at point " + a.point + ": " + Num(a.value) + " " + a.unit +
           " (threshold " + Num(a.threshold) + " " + a.unit + ")";
  }

  void Event(EventKind k, const Alarm& a, Timestamp now, Emissions& out,
             std::string actor = std::string(kSystemActor),
             std::optional<Level> from = std::nullopt) {
    AlarmEvent e;
    e.kind = k;
    e.alarm = a;
    e.at = now;
    e.actor = std::move(actor);
    e.from_level = from;
    out.events.push_back(std::move(e));
  }

  // Raises a new alarm for (point, rule), or reactivates its cleared-unacked one.
  std::int64_t Raise(PointIndex i, std::int64_t existing, const RuleInfo& info, double value,
                     std::int64_t reading_time, Timestamp now, Emissions& out) {
    const PointCold& c = cold[i];
    if (existing != 0) {
      auto it = alarms.find(existing);
      if (it != alarms.end() && it->second.alarm.state == AlarmState::kClearedUnacked) {
        Alarm& a = it->second.alarm;
        a.state = AlarmState::kActiveUnacked;
        a.cleared_at.reset();
        a.value = value;
        a.peak = value;
        a.reading_time = Timestamp{reading_time};
        a.ack_deadline = now + core::Duration::Seconds(book.Sop(a.level).ack_within_s);
        deadlines.emplace(a.ack_deadline.micros, a.id);
        Event(EventKind::kReactivated, a, now, out);
        EmitActions(a, a.level, now, out);
        return existing;
      }
    }
    Alarm a;
    a.id = next_id++;
    a.org = c.config.org;
    a.site = c.config.site;
    a.zone = c.config.zone;
    a.point = c.config.id;
    a.kind = c.config.kind;
    a.unit = c.config.unit;
    a.rule = info.id;
    a.clause = info.clause;
    a.rule_kind = info.rule_kind;
    a.level = a.raised_level = info.level;
    a.state = AlarmState::kActiveUnacked;
    a.profiles = c.profiles;
    a.threshold = info.threshold;
    a.value = a.peak = value;
    a.raised_at = now;
    a.reading_time = Timestamp{reading_time};
    a.ack_deadline = now + core::Duration::Seconds(book.Sop(a.level).ack_within_s);
    a.permits = c.config.permits;
    const std::string& name = c.config.name.empty() ? c.config.id : c.config.name;
    a.message_zh = FillMessage(info.message_zh, name, value, a.unit, info.threshold);
    a.message_en = FillMessage(info.message_en, name, value, a.unit, info.threshold);
    open_by_key[AlarmKey(a.org, a.point, a.rule)] = a.id;
    deadlines.emplace(a.ack_deadline.micros, a.id);
    Event(EventKind::kRaised, a, now, out);
    EmitActions(a, a.level, now, out);
    std::int64_t id = a.id;
    alarms.emplace(id, AlarmRec{std::move(a), i});
    return id;
  }

  // Active -> cleared. Returns the alarm id still bound to the slot (0 once closed).
  std::int64_t Clear(std::int64_t id, Timestamp now, Emissions& out) {
    auto it = alarms.find(id);
    if (it == alarms.end()) return 0;
    Alarm& a = it->second.alarm;
    a.cleared_at = now;
    if (a.state == AlarmState::kActiveAcked) {
      a.state = AlarmState::kClearedAcked;
      Event(EventKind::kCleared, a, now, out);
      Event(EventKind::kClosed, a, now, out);
      Close(it);
      return 0;
    }
    a.state = AlarmState::kClearedUnacked;
    Event(EventKind::kCleared, a, now, out);
    return id;
  }

  void Close(std::unordered_map<std::int64_t, AlarmRec>::iterator it) {
    const Alarm& a = it->second.alarm;
    open_by_key.erase(AlarmKey(a.org, a.point, a.rule));
    alarms.erase(it);
  }

  // Detaches a closed alarm from its point's slots.
  void Unbind(PointIndex i, std::int64_t id) {
    if (i >= hot.size()) return;
    PointHot& h = hot[i];
    for (std::size_t k = 0; k < h.size(); ++k) {
      CompiledRule& r = h.rule(k);
      if (r.alarm == id) {
        r.alarm = 0;
        r.active = false;
        r.since = kNever;
      }
    }
    for (FaultSlot* s : {&h.stale, &h.flat, &h.range}) {
      if (s->alarm == id) *s = FaultSlot{};
    }
  }

  void UpdatePeak(std::int64_t id, double peak) {
    auto it = alarms.find(id);
    if (it != alarms.end()) it->second.alarm.peak = peak;
  }

  [[gnu::noinline]] void RaiseRule(PointIndex i, CompiledRule& r, double value, std::int64_t t,
                                   Timestamp now, Emissions& out) {
    r.alarm = Raise(i, r.alarm, cold[i].defs[r.def], value, t, now, out);
    r.active = true;
    r.since = kNever;
    r.peak = value;
  }

  [[gnu::noinline]] void ClearRule(CompiledRule& r, Timestamp now, Emissions& out) {
    UpdatePeak(r.alarm, r.peak);
    r.alarm = Clear(r.alarm, now, out);
    r.active = false;
    r.since = kNever;
  }

  [[gnu::noinline]] void RaiseFault(PointIndex i, FaultSlot& s, const RuleDef& rd, double value,
                                    double threshold, std::int64_t t, Timestamp now,
                                    Emissions& out) {
    RuleInfo info{rd.id, rd.clause, std::string(RuleKindName(rd.kind)), rd.level, threshold,
                  rd.message_zh, rd.message_en};
    s.alarm = Raise(i, s.alarm, info, value, t, now, out);
    s.active = true;
  }

  [[gnu::noinline]] void ClearFault(FaultSlot& s, Timestamp now, Emissions& out) {
    s.alarm = Clear(s.alarm, now, out);
    s.active = false;
  }

  [[gnu::noinline]] void PeakRule(CompiledRule& r, double value) {
    r.peak = value;
    UpdatePeak(r.alarm, value);
  }

  // --- the hot path -------------------------------------------------------------------

  IngestVerdict Ingest(PointIndex i, Timestamp time, double value, Timestamp now,
                       Emissions& out) {
    if (i >= hot.size()) [[unlikely]] return IngestVerdict::kDisabled;
    PointHot& h = hot[i];
    if (!h.enabled) [[unlikely]] return IngestVerdict::kDisabled;
    if (!std::isfinite(value)) [[unlikely]] return IngestVerdict::kNotFinite;
    const std::int64_t t = time.micros;
    if (t > now.micros + options.max_future.micros) [[unlikely]] return IngestVerdict::kTooFarFuture;
    if (t < now.micros - options.max_age.micros) [[unlikely]] return IngestVerdict::kTooOld;
    if (t == h.last_t) [[unlikely]] return IngestVerdict::kDuplicate;
    if (t < h.last_t) [[unlikely]] return IngestVerdict::kOutOfOrder;
    h.last_t = t;
    h.last_v = value;
    h.last_seen = now.micros;
    if (h.stale.active) [[unlikely]] ClearFault(h.stale, now, out);

    // Sensor faults: a reading outside the physical range is not evaluated further.
    if (value < h.range_min || value > h.range_max) [[unlikely]] {
      if (!h.range.active) {
        const KindDef::UnitRange* ur = book.Kind(cold[i].config.kind)->Unit(cold[i].config.unit);
        RaiseFault(i, h.range, *cold[i].range_rule, value, value < h.range_min ? ur->min : ur->max,
                   t, now, out);
      }
      return IngestVerdict::kAccepted;
    }
    if (h.range.active) [[unlikely]] ClearFault(h.range, now, out);
    if (h.flat_us > 0) {
      if (value == h.flat_v && h.flat_since != kNever) {
        if (!h.flat.active && t - h.flat_since >= h.flat_us) [[unlikely]] {
          RaiseFault(i, h.flat, *cold[i].flat_rule, value,
                     static_cast<double>(h.flat_us / kMicrosPerSecond), t, now, out);
        }
      } else {
        h.flat_v = value;
        h.flat_since = t;
        if (h.flat.active) [[unlikely]] ClearFault(h.flat, now, out);
      }
    }

    const std::size_t n = h.size();
    for (std::size_t k = 0; k < n; ++k) {
      CompiledRule& r = k < kInline ? h.rules[k] : h.more[k - kInline];
      double measured = value;
      bool over;
      bool back;
      switch (r.kind) {
        case RuleKind::kThresholdHigh:
          over = value >= r.thr;
          back = value < r.back;
          break;
        case RuleKind::kThresholdLow:
          over = value <= r.thr;
          back = value > r.back;
          break;
        default: {  // kRate
          if (r.anchor_t == kNever) {
            r.anchor_t = t;
            r.anchor_v = value;
            continue;
          }
          const std::int64_t dt = t - r.anchor_t;
          const std::int64_t window_us = std::int64_t{r.window_s} * kMicrosPerSecond;
          const double rise = value - r.anchor_v;
          if (dt >= window_us) {
            measured = rise * kMicrosPerMinute / static_cast<double>(dt);
            r.anchor_t = t;
            r.anchor_v = value;
          } else if (rise * kMicrosPerMinute >= r.thr * static_cast<double>(window_us)) {
            // Already risen a whole window's worth: no need to wait for the window's end.
            measured = rise * kMicrosPerMinute / static_cast<double>(window_us);
          } else {
            continue;
          }
          over = measured >= r.thr;
          back = measured < r.back;
          break;
        }
      }
      if (!r.active) {
        if (over && !r.clear_only) {
          if (r.since == kNever) r.since = t;
          if (t - r.since >= r.for_us) [[unlikely]] RaiseRule(i, r, measured, t, now, out);
        } else {
          r.since = kNever;
        }
        continue;
      }
      const bool worse = r.kind == RuleKind::kThresholdLow ? measured < r.peak : measured > r.peak;
      if (worse) [[unlikely]] PeakRule(r, measured);
      if (back) {
        if (r.since == kNever) r.since = t;
        if (t - r.since >= r.clear_for_us) [[unlikely]] ClearRule(r, now, out);
      } else {
        r.since = kNever;
      }
    }
    return IngestVerdict::kAccepted;
  }

  // --- time-driven rules ----------------------------------------------------------------

  void Escalate(AlarmRec& rec, Timestamp now, Emissions& out) {
    Alarm& a = rec.alarm;
    const Level from = a.level;
    const SopLevel& sop = book.Sop(from);
    if (sop.escalate_to && *sop.escalate_to > from) a.level = *sop.escalate_to;
    ++a.escalations;
    a.ack_deadline = now + core::Duration::Seconds(book.Sop(a.level).ack_within_s);
    deadlines.emplace(a.ack_deadline.micros, a.id);
    Event(EventKind::kEscalated, a, now, out, std::string(kSystemActor), from);
    if (!sop.notify_on_timeout.empty()) {
      Action act;
      act.kind = ActionKind::kNotify;
      act.alarm_id = a.id;
      act.org = a.org;
      act.site = a.site;
      act.zone = a.zone;
      act.point = a.point;
      act.level = a.level;
      act.roles = sop.notify_on_timeout;
      act.permits = a.permits;
      act.reason = "acknowledgement deadline missed: " + Reason(a);
      act.at = now;
      out.actions.push_back(std::move(act));
    }
    if (a.level != from) EmitActions(a, a.level, now, out);
  }

  void Tick(Timestamp now, Emissions& out) {
    SyncMonth(now);
    for (PointIndex i = 0; i < hot.size(); ++i) {
      PointHot& h = hot[i];
      if (!h.enabled || h.stale_us == 0 || h.stale.active) continue;
      if (now.micros - h.last_seen >= h.stale_us) [[unlikely]] {
        RaiseFault(i, h.stale, *cold[i].stale_rule, h.last_v,
                   static_cast<double>(h.stale_us / kMicrosPerSecond),
                   h.last_t == kNever ? now.micros : h.last_t, now, out);
      }
    }
    while (!deadlines.empty() && deadlines.top().first <= now.micros) {
      auto [deadline, id] = deadlines.top();
      deadlines.pop();
      auto it = alarms.find(id);
      if (it == alarms.end()) continue;
      Alarm& a = it->second.alarm;
      if (a.ack_deadline.micros != deadline || a.state != AlarmState::kActiveUnacked) continue;
      Escalate(it->second, now, out);
    }
  }
};

Engine::Engine(const MonitorRulebook& book, EngineOptions options)
    : book_(book), impl_(std::make_unique<Impl>(book, options)) {}

Engine::~Engine() = default;

core::Result<PointIndex> Engine::UpsertPoint(const PointConfig& config, core::Timestamp now) {
  Impl& m = *impl_;
  WG_RETURN_IF_ERROR(m.Validate(config));
  m.SyncMonth(now);
  auto key = std::make_pair(config.org.value, config.id);
  auto it = m.index.find(key);
  PointIndex i;
  if (it != m.index.end()) {
    i = it->second;
    m.cold[i].config = config;
    if (!m.hot[i].enabled && config.enabled) m.hot[i].last_seen = now.micros;
  } else {
    if (m.hot.size() >= kNoPoint) return core::Status::ResourceExhausted("too many points");
    i = static_cast<PointIndex>(m.hot.size());
    m.hot.emplace_back();
    m.cold.emplace_back();
    m.cold[i].config = config;
    m.hot[i].last_seen = now.micros;
    m.index.emplace(std::move(key), i);
  }
  m.Compile(i);
  return i;
}

core::Status Engine::RemovePoint(core::OrgId org, std::string_view id) {
  auto i = Find(org, id);
  if (!i) return core::Status::NotFound("no point '" + std::string(id) + "'", "id");
  impl_->hot[*i].enabled = false;
  impl_->cold[*i].config.enabled = false;
  return core::Status::Ok();
}

std::optional<PointIndex> Engine::Find(core::OrgId org, std::string_view id) const {
  auto it = impl_->index.find(std::make_pair(org.value, std::string(id)));
  if (it == impl_->index.end()) return std::nullopt;
  return it->second;
}

std::size_t Engine::point_count() const { return impl_->hot.size(); }

const PointConfig& Engine::point(PointIndex i) const { return impl_->cold.at(i).config; }

core::Status Engine::SetPointConditions(PointIndex i, const std::vector<std::string>& conditions,
                                        core::Timestamp now) {
  Impl& m = *impl_;
  if (i >= m.hot.size()) return core::Status::NotFound("no point with index " + std::to_string(i));
  std::vector<std::string> sorted;
  for (std::size_t k = 0; k < conditions.size(); ++k) {
    if (std::find(std::begin(kKnownConditions), std::end(kKnownConditions), conditions[k]) ==
        std::end(kKnownConditions)) {
      return core::Status::InvalidArgument("unknown condition '" + conditions[k] + "'",
                                     "conditions[" + std::to_string(k) + "]");
    }
    if (!Contains(sorted, conditions[k])) sorted.push_back(conditions[k]);
  }
  std::sort(sorted.begin(), sorted.end());
  m.SyncMonth(now);
  if (sorted == m.cold[i].conditions) return core::Status::Ok();
  m.cold[i].conditions = std::move(sorted);
  m.Compile(i);
  return core::Status::Ok();
}

IngestVerdict Engine::Ingest(PointIndex i, core::Timestamp time, double value,
                             core::Timestamp now, Emissions& out) {
  return impl_->Ingest(i, time, value, now, out);
}

void Engine::Tick(core::Timestamp now, Emissions& out) { impl_->Tick(now, out); }

core::Result<Alarm> Engine::Acknowledge(core::OrgId org, std::int64_t id, const std::string& actor,
                                        std::string_view role, const std::string& note,
                                        core::Timestamp now, Emissions& out) {
  Impl& m = *impl_;
  auto it = m.alarms.find(id);
  if (it == m.alarms.end() || it->second.alarm.org != org) {
    return core::Status::NotFound("no open alarm " + std::to_string(id), "id");
  }
  Alarm& a = it->second.alarm;
  const SopLevel& sop = book_.Sop(a.level);
  if (!Contains(sop.ack_roles, role)) {
    std::string allowed;
    for (const auto& r : sop.ack_roles) allowed += (allowed.empty() ? "" : ", ") + r;
    return core::Status::PermissionDenied("role '" + std::string(role) + "' may not acknowledge a " +
                                    std::string(LevelName(a.level)) + " alarm (allowed: " +
                                    allowed + ")");
  }
  if (a.state == AlarmState::kActiveAcked || a.state == AlarmState::kClearedAcked) {
    return core::Status::FailedPrecondition("alarm " + std::to_string(id) + " is already acknowledged");
  }
  if (actor.empty()) return core::Status::InvalidArgument("actor required", "actor");
  a.acked_at = now;
  a.acked_by = actor;
  a.ack_note = note;
  if (a.state == AlarmState::kActiveUnacked) {
    a.state = AlarmState::kActiveAcked;
    m.Event(EventKind::kAcknowledged, a, now, out, actor);
    return a;
  }
  a.state = AlarmState::kClearedAcked;
  m.Event(EventKind::kAcknowledged, a, now, out, actor);
  m.Event(EventKind::kClosed, a, now, out, actor);
  Alarm copy = a;
  PointIndex point = it->second.point;
  m.Close(it);
  m.Unbind(point, id);
  return copy;
}

std::vector<Alarm> Engine::OpenAlarms(core::OrgId org) const {
  std::vector<Alarm> out;
  for (const auto& [id, rec] : impl_->alarms) {
    if (org.valid() && rec.alarm.org != org) continue;
    out.push_back(rec.alarm);
  }
  std::sort(out.begin(), out.end(), [](const Alarm& a, const Alarm& b) { return a.id < b.id; });
  return out;
}

std::optional<Alarm> Engine::GetOpenAlarm(std::int64_t id) const {
  auto it = impl_->alarms.find(id);
  if (it == impl_->alarms.end()) return std::nullopt;
  return it->second.alarm;
}

PointStatus Engine::Status(PointIndex i) const {
  const Impl& m = *impl_;
  PointStatus s;
  if (i >= m.hot.size()) return s;
  const PointHot& h = m.hot[i];
  s.index = i;
  s.config = &m.cold[i].config;
  if (h.last_t != kNever) s.last_time = Timestamp{h.last_t};
  s.last_value = h.last_v;
  s.stale = h.stale.active;
  s.conditions = m.cold[i].conditions;
  s.profiles = m.cold[i].profiles;
  return s;
}

std::optional<RedLimit> Engine::RedThreshold(PointIndex i) const {
  const Impl& m = *impl_;
  if (i >= m.hot.size()) return std::nullopt;
  const PointHot& h = m.hot[i];
  const PointCold& c = m.cold[i];
  if (!h.enabled) return std::nullopt;
  // The point's own limits are compiled last, one def each (always on).
  const std::size_t n_limits = c.config.limits.size();
  const std::size_t first_limit = c.defs.size() >= n_limits ? c.defs.size() - n_limits : 0;
  auto threshold = [](const CompiledRule& r) {
    return (r.kind == RuleKind::kThresholdHigh || r.kind == RuleKind::kThresholdLow) &&
           !r.clear_only;
  };
  // Fires first: the lower high limit, the higher low limit.
  auto earlier = [](bool high, double a, double b) { return high ? a < b : a > b; };
  auto pick = [&](bool limits) -> std::optional<RedLimit> {
    std::optional<RedLimit> red;
    for (std::size_t k = 0; k < h.size(); ++k) {
      const CompiledRule& r = h.rule(k);
      if (!threshold(r) || (r.def >= first_limit) != limits) continue;
      const RuleInfo& info = c.defs[r.def];
      if (info.level != Level::kRed) continue;
      const bool high = r.kind == RuleKind::kThresholdHigh;
      if (red && (red->high != high || !earlier(high, r.thr, red->value))) continue;
      red = RedLimit{r.thr, high, std::numeric_limits<double>::quiet_NaN(), info.id, info.clause};
    }
    return red;
  };
  std::optional<RedLimit> red = pick(false);
  if (!red) red = pick(true);
  if (!red) return std::nullopt;
  for (std::size_t k = 0; k < h.size(); ++k) {
    const CompiledRule& r = h.rule(k);
    if (!threshold(r) || c.defs[r.def].level != Level::kYellow) continue;
    if ((r.kind == RuleKind::kThresholdHigh) != red->high) continue;
    if (!earlier(red->high, r.thr, red->value)) continue;
    if (std::isnan(red->warn) || earlier(red->high, r.thr, red->warn)) red->warn = r.thr;
  }
  return red;
}

core::Status Engine::Restore(const std::vector<Alarm>& open, std::int64_t next_id) {
  Impl& m = *impl_;
  if (next_id < 1) return core::Status::InvalidArgument("must be positive", "next_id");
  std::set<std::string> keys;
  for (std::size_t k = 0; k < open.size(); ++k) {
    const Alarm& a = open[k];
    std::string field = "open[" + std::to_string(k) + "]";
    if (a.id < 1) return core::Status::InvalidArgument("alarm id must be positive", field + ".id");
    if (a.state == AlarmState::kClearedAcked) {
      return core::Status::InvalidArgument("a cleared and acknowledged alarm is closed", field + ".state");
    }
    if (m.alarms.count(a.id) != 0) {
      return core::Status::AlreadyExists("alarm " + std::to_string(a.id) + " is already open",
                                   field + ".id");
    }
    std::string key = AlarmKey(a.org, a.point, a.rule);
    if (m.open_by_key.count(key) != 0 || !keys.insert(key).second) {
      return core::Status::InvalidArgument("two open alarms of point '" + a.point + "' and rule '" +
                                         a.rule + "'",
                                     field + ".rule");
    }
    for (std::size_t j = 0; j < k; ++j) {
      if (open[j].id == a.id) return core::Status::InvalidArgument("duplicate alarm id", field + ".id");
    }
  }
  std::int64_t max_id = 0;
  for (const Alarm& a : open) {
    auto p = Find(a.org, a.point);
    m.alarms.emplace(a.id, AlarmRec{a, p.value_or(kNoPoint)});
    m.open_by_key[AlarmKey(a.org, a.point, a.rule)] = a.id;
    if (a.state == AlarmState::kActiveUnacked) m.deadlines.emplace(a.ack_deadline.micros, a.id);
    max_id = std::max(max_id, a.id);
  }
  m.next_id = std::max({m.next_id, next_id, max_id + 1});
  for (PointIndex i = 0; i < m.hot.size(); ++i) m.Compile(i);
  return core::Status::Ok();
}

std::int64_t Engine::next_alarm_id() const { return impl_->next_id; }

namespace {
bool ValidSubject(std::string_view id) {
  if (id.empty() || id.size() > 160) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == ':' || c == '/';
    if (!ok) return false;
  }
  return true;
}
}  // namespace

core::Result<std::int64_t> Engine::RaiseExternal(Alarm a, core::Timestamp now, Emissions& out) {
  Impl& m = *impl_;
  if (!ValidSubject(a.point)) {
    return core::Status::InvalidArgument("must match [A-Za-z0-9._:/-]{1,160}", "point");
  }
  if (a.rule.empty()) return core::Status::InvalidArgument("is required", "rule");
  if (a.site.empty()) return core::Status::InvalidArgument("is required", "site");
  for (std::size_t k = 0; k < a.actions.size(); ++k) {
    const std::string& n = a.actions[k];
    if (n != "notify" && n != "suspend_permit" && n != "broadcast" && n != "power_lock") {
      return core::Status::InvalidArgument("unknown action '" + n + "'",
                                           "actions[" + std::to_string(k) + "]");
    }
  }
  if (a.value != a.value) a.value = 0;
  auto key = AlarmKey(a.org, a.point, a.rule);
  if (auto it = m.open_by_key.find(key); it != m.open_by_key.end()) {
    auto rec = m.alarms.find(it->second);
    if (rec != m.alarms.end()) {
      Alarm& open = rec->second.alarm;
      open.value = a.value;
      open.peak = std::max(open.peak, a.value);
      if (!a.evidence.empty()) open.evidence = a.evidence;
      if (open.state == AlarmState::kClearedUnacked) {
        open.state = AlarmState::kActiveUnacked;
        open.cleared_at.reset();
        open.peak = a.value;
        open.reading_time = now;
        open.message_zh = a.message_zh;
        open.message_en = a.message_en;
        open.ack_deadline = now + core::Duration::Seconds(book_.Sop(open.level).ack_within_s);
        m.deadlines.emplace(open.ack_deadline.micros, open.id);
        m.Event(EventKind::kReactivated, open, now, out);
        m.EmitActions(open, open.level, now, out);
      }
      return open.id;
    }
  }
  a.id = m.next_id++;
  a.raised_level = a.level;
  a.state = AlarmState::kActiveUnacked;
  a.peak = a.value;
  a.raised_at = now;
  a.reading_time = now;
  a.ack_deadline = now + core::Duration::Seconds(book_.Sop(a.level).ack_within_s);
  a.acked_at.reset();
  a.acked_by.clear();
  a.ack_note.clear();
  a.cleared_at.reset();
  a.escalations = 0;
  m.open_by_key[key] = a.id;
  m.deadlines.emplace(a.ack_deadline.micros, a.id);
  m.Event(EventKind::kRaised, a, now, out);
  m.EmitActions(a, a.level, now, out);
  const std::int64_t id = a.id;
  m.alarms.emplace(id, AlarmRec{std::move(a), kNoPoint});
  return id;
}

core::Status Engine::ClearExternal(core::OrgId org, std::string_view point, std::string_view rule,
                                   core::Timestamp now, Emissions& out) {
  Impl& m = *impl_;
  auto it = m.open_by_key.find(AlarmKey(org, std::string(point), std::string(rule)));
  if (it == m.open_by_key.end()) {
    return core::Status::NotFound("no open alarm of '" + std::string(point) + "' and rule '" +
                                      std::string(rule) + "'",
                                  "point");
  }
  auto rec = m.alarms.find(it->second);
  if (rec == m.alarms.end()) return core::Status::NotFound("no open alarm", "point");
  const AlarmState st = rec->second.alarm.state;
  if (st != AlarmState::kActiveUnacked && st != AlarmState::kActiveAcked) {
    return core::Status::NotFound("the alarm is not active", "point");
  }
  m.Clear(it->second, now, out);
  return core::Status::Ok();
}

}  // namespace wg::monitor
