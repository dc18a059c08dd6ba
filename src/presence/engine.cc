// Engine: positions in, fence transitions and alarm operations out (see engine.h).
//
// Layout for speed: every tag has one dense record in a vector indexed by TagIndex (last
// accepted fix, movement anchor, the sorted list of fence slots it is inside, jump record).
// Fences (zone fences and permit work fences alike) live in slots of one vector, indexed by
// one GridIndex per (organization, site). Ingest in steady state touches the tag record,
// one grid cell and the candidate fences' exact tests: no allocation (scratch vectors are
// reused), no map lookup, no string work; strings are built only for events and alarms.
//
// Time-driven rules are evaluated in Tick from that state: each condition computes the
// instant it becomes due (its start plus its grace); a due condition raises once per
// (rule, subject) and stays open while it is re-held by every Tick; an open condition no
// Tick holds any more is cleared. Guardian and holder presence need the instant a person
// left the work area, so each (permit, rule, person, tag) has a small "watch" updated by
// the fixes of that tag (few tags: only guardians' and holders').
#include "wg/presence/engine.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <unordered_map>

namespace wg::presence {

namespace {

using core::Json;
using core::OrgId;
using core::Status;
using core::Timestamp;

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();
constexpr std::uint32_t kNoSlot = UINT32_MAX;
constexpr TagIndex kNoTag = UINT32_MAX;
constexpr std::size_t kVerdicts = 12;
constexpr double kDegToRad = 3.14159265358979323846 / 180.0;
constexpr double kDefaultMovementM = 0.5;

using Vars = std::vector<std::pair<std::string, std::string>>;

std::string Fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

double Secs(std::int64_t micros) { return static_cast<double>(micros) / 1e6; }

std::string Iso(std::int64_t t) { return core::FormatTimestamp(Timestamp{t}); }

Json PosJson(Vec3 p, bool has_z) {
  Json j = {{"x", p.x}, {"y", p.y}};
  if (has_z) j["z"] = p.z;
  return j;
}

double Planar(Vec3 a, Vec2 b) { return std::hypot(a.x - b.x, a.y - b.y); }

bool Has(const std::vector<PersonRef>& v, const PersonRef& p) {
  return std::find(v.begin(), v.end(), p) != v.end();
}

bool Finite(double v) { return std::isfinite(v); }

std::string CondKey(OrgId org, std::string_view rule, std::string_view subject) {
  std::string k = std::to_string(org.value);
  k += '\x1f';
  k += rule;
  k += '\x1f';
  k += subject;
  return k;
}

struct SiteState {
  OrgId org;
  std::string code;
  GridIndex grid;
  SiteFrame frame;
  std::optional<LocalFrame> local;  // cached LocalFrame of frame.origin
  double cos_r = 1, sin_r = 0;      // the UWB transform's rotation
  std::vector<TagIndex> tags;       // tags reporting in this site
  SiteState(OrgId o, std::string c, double cell) : org(o), code(std::move(c)), grid(cell) {}
};

struct PermitRec;

struct FenceSlot {
  bool used = false;
  bool in_grid = false;
  bool is_permit = false;
  bool enabled = true;
  bool hazardous = false, restricted = false, confined = false;
  OrgId org;
  SiteState* site = nullptr;
  std::string id;      // zone fence id, or "permit:<number>"
  std::string zone;
  std::string permit;  // permit number ("" for a zone fence)
  PermitRec* rec = nullptr;
  Area area;
};

struct Membership {
  std::uint32_t slot = 0;
  std::int64_t since = 0;  // entered at
};

// One tag's relation to one permit's work area for one presence rule.
struct Watch {
  TagIndex tag = 0;
  PermitRec* permit = nullptr;
  const RuleDef* rule = nullptr;
  PersonRef person;
  bool known = false;  // a fix of this person has been seen
  bool near = false;   // inside the fence or within max_distance_m of the work point
  std::int64_t since = kNever;  // fix time at which `near` took its current value
  std::int64_t t = kNever;      // last fix time
  Vec3 pos;
  bool has_z = false;
  double dist = 0;  // planar distance to the work point
};

enum class Role : std::uint8_t { kGuardian, kHolder };

struct WatchGroup {
  const RuleDef* rule = nullptr;
  Role role = Role::kGuardian;
  std::size_t holder = 0;  // index into ctx.holders
  PersonRef person;
  std::vector<Watch*> watches;
};

struct PermitRec {
  PermitContext ctx;
  std::uint32_t slot = kNoSlot;
  std::int64_t activation_start = kNever;  // presence grace timers start here
  std::int64_t inactive_since = kNever;
  std::int64_t auth_changed_at = kNever;   // last change of `authorized` or `active`
  bool confined = false;
  std::vector<WatchGroup> groups;
};

struct Occupancy {
  std::vector<Occupant> occupants;
  std::map<std::string, int> tools;
  std::int64_t occupied_since = kNever;
};

struct TagData {
  Tag tag;
  SiteState* site = nullptr;
  std::vector<Binding> bindings;
  std::int64_t t = kNever;  // last accepted fix time
  Vec3 pos;
  bool has_z = false;
  double acc = -1;  // < 0: not reported
  Vec2 anchor;
  std::int64_t moved_at = kNever;
  std::vector<Membership> fences;  // sorted by slot
  // Jump record.
  bool pending_jump = false;  // the last fix of this tag was rejected as a jump
  Vec3 jump_pos;
  std::int64_t jump_t = kNever;
  double jump_acc = -1;
  std::vector<std::int64_t> jump_times;  // engine times of recent jump rejections
  bool jump_open = false;
  bool stale_open = false;
  std::vector<Watch*> watches;
};

struct Cond {
  AlarmOp op;  // the raise
  std::uint64_t gen = 0;
  std::string permit;
  TagIndex stale_tag = kNoTag;
  TagIndex jump_tag = kNoTag;
};

// PermitContext's defaulted == is deleted (Holder has none), so compare here.
bool SameHolders(const std::vector<PermitContext::Holder>& a,
                 const std::vector<PermitContext::Holder>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.person == y.person && x.role == y.role &&
           x.certificate_number == y.certificate_number;
  });
}

bool Same(const PermitContext& a, const PermitContext& b) {
  return a.org == b.org && a.id == b.id && a.number == b.number && a.site == b.site &&
         a.zone == b.zone && a.type == b.type && a.active == b.active && a.fence == b.fence &&
         a.work_point == b.work_point && a.guardians == b.guardians &&
         SameHolders(a.holders, b.holders) && a.authorized == b.authorized &&
         a.active_since == b.active_since;
}

const Binding* BindingAt(const TagData& t, std::int64_t at) {
  const Binding* best = nullptr;
  for (const auto& b : t.bindings) {
    if (b.ValidAt(Timestamp{at}) && (best == nullptr || b.valid_from > best->valid_from)) {
      best = &b;
    }
  }
  return best;
}

}  // namespace

std::string_view PositionVerdictName(PositionVerdict v) {
  switch (v) {
    case PositionVerdict::kAccepted: return "accepted";
    case PositionVerdict::kUnknownTag: return "unknown_tag";
    case PositionVerdict::kDisabled: return "disabled";
    case PositionVerdict::kNotFinite: return "not_finite";
    case PositionVerdict::kOutOfRange: return "out_of_range";
    case PositionVerdict::kNoSiteOrigin: return "no_site_origin";
    case PositionVerdict::kPoorAccuracy: return "poor_accuracy";
    case PositionVerdict::kTooFarFuture: return "too_far_future";
    case PositionVerdict::kTooOld: return "too_old";
    case PositionVerdict::kOutOfOrder: return "out_of_order";
    case PositionVerdict::kDuplicate: return "duplicate";
    case PositionVerdict::kImplausibleJump: return "implausible_jump";
  }
  return "accepted";
}

std::string_view FenceEventKindName(FenceEvent::Kind k) {
  return k == FenceEvent::Kind::kEntered ? "entered" : "exited";
}

struct Engine::Impl {
  const PresenceRulebook& book;
  EngineOptions opt;
  std::vector<const RuleDef*> unauth_rules, guardian_rules, confined_rules, holder_rules,
      lone_rules, stale_rules;
  const RuleDef* jump_rule = nullptr;
  double movement_m = kDefaultMovementM;

  std::vector<TagData> tags;
  std::unordered_map<std::int64_t, std::map<std::string, TagIndex, std::less<>>> tag_ids;
  // org -> person key -> tags with a binding (any time) to that person
  std::unordered_map<std::int64_t, std::map<std::string, std::vector<TagIndex>>> person_tags;
  std::map<std::pair<std::int64_t, std::string>, std::unique_ptr<SiteState>> sites;
  std::vector<FenceSlot> slots;
  std::vector<std::uint32_t> free_slots;
  std::size_t used_slots = 0;
  std::unordered_map<std::int64_t, std::map<std::string, std::uint32_t, std::less<>>> zone_fences;
  std::unordered_map<std::int64_t, std::map<std::string, std::unique_ptr<PermitRec>, std::less<>>>
      permits;
  std::unordered_map<std::int64_t, std::map<std::string, Occupancy, std::less<>>> occupancy;
  std::map<std::string, std::unique_ptr<Watch>> watches;
  bool derived_dirty = false;
  std::map<std::string, Cond> conds;  // open alarms by (org, rule, subject)
  std::unordered_map<std::string, const PermitRec*> active_on;  // Tick scratch, BuildActiveOn
  std::uint64_t gen = 0;
  std::array<std::uint64_t, kVerdicts> rejected{};
  EngineStats stats;
  std::vector<std::uint32_t> scratch_ids, scratch_in;
  std::vector<Membership> scratch_mem;

  Impl(const PresenceRulebook& b, EngineOptions o) : book(b), opt(o) {
    unauth_rules = book.RulesOf(Check::kUnauthorizedEntry);
    guardian_rules = book.RulesOf(Check::kGuardianPresence);
    confined_rules = book.RulesOf(Check::kConfinedHeadcount);
    holder_rules = book.RulesOf(Check::kHolderPresence);
    lone_rules = book.RulesOf(Check::kLoneWorker);
    stale_rules = book.RulesOf(Check::kStaleTag);
    auto jumps = book.RulesOf(Check::kImplausibleJump);
    if (!jumps.empty()) jump_rule = jumps.front();
    if (!lone_rules.empty()) movement_m = lone_rules.front()->movement_m;
    if (!(opt.grid_cell_m > 0) || !Finite(opt.grid_cell_m)) opt.grid_cell_m = 32;
  }

  // --- sites and fence slots -------------------------------------------------------

  SiteState& Site(OrgId org, std::string_view code) {
    auto key = std::make_pair(org.value, std::string(code));
    auto it = sites.find(key);
    if (it == sites.end()) {
      it = sites.emplace(key, std::make_unique<SiteState>(org, std::string(code), opt.grid_cell_m))
               .first;
    }
    return *it->second;
  }
  const SiteState* FindSite(OrgId org, std::string_view code) const {
    auto it = sites.find(std::make_pair(org.value, std::string(code)));
    return it == sites.end() ? nullptr : it->second.get();
  }

  std::uint32_t AllocSlot() {
    std::uint32_t id;
    if (!free_slots.empty()) {
      id = free_slots.back();
      free_slots.pop_back();
    } else {
      id = static_cast<std::uint32_t>(slots.size());
      slots.emplace_back();
    }
    slots[id] = FenceSlot{};
    slots[id].used = true;
    ++used_slots;
    return id;
  }

  // Forgets `slot` in the memberships of its site's tags (no events: the fence is gone).
  void Purge(std::uint32_t slot) {
    const FenceSlot& f = slots[slot];
    if (f.site == nullptr) return;
    for (TagIndex ti : f.site->tags) {
      auto& v = tags[ti].fences;
      v.erase(std::remove_if(v.begin(), v.end(),
                             [slot](const Membership& m) { return m.slot == slot; }),
              v.end());
    }
  }

  void Unplace(std::uint32_t slot) {
    FenceSlot& f = slots[slot];
    if (f.in_grid) f.site->grid.Remove(slot);
    f.in_grid = false;
  }

  void Place(std::uint32_t slot) {
    FenceSlot& f = slots[slot];
    Unplace(slot);
    if (!f.enabled || f.site == nullptr) return;
    f.site->grid.Insert(slot, Bounds(f.area));
    f.in_grid = true;
  }

  void FreeSlot(std::uint32_t slot) {
    Unplace(slot);
    Purge(slot);
    slots[slot] = FenceSlot{};
    free_slots.push_back(slot);
    --used_slots;
  }

  bool ConfinedType(std::string_view type) const {
    return std::any_of(confined_rules.begin(), confined_rules.end(),
                       [&](const RuleDef* r) { return r->AppliesTo(type); });
  }

  // --- events and occupancy --------------------------------------------------------

  void TagOccupancy(const FenceSlot& f, const PersonRef& person, const std::string& tag,
                    bool entering, std::int64_t at) {
    Occupancy& o = occupancy[f.org.value][f.permit];
    auto it = std::find_if(o.occupants.begin(), o.occupants.end(),
                           [&](const Occupant& x) { return x.person == person; });
    if (entering) {
      if (it != o.occupants.end()) return;  // already inside (another tag or the register)
      if (o.occupants.empty()) o.occupied_since = at;
      o.occupants.push_back(Occupant{person, tag, Timestamp{at}, "tag", {}});
    } else if (it != o.occupants.end() && it->source == "tag" && it->tag == tag) {
      o.occupants.erase(it);
    }
  }

  void Emit(const TagData& td, const FenceSlot& f, FenceEvent::Kind kind, std::int64_t at,
            std::int64_t since, Output& out) {
    FenceEvent e;
    e.kind = kind;
    e.org = f.org;
    e.site = f.site->code;
    e.zone = f.zone;
    e.fence = f.id;
    e.permit = f.permit;
    e.confined = f.confined;
    e.hazardous = f.hazardous;
    if (const Binding* b = BindingAt(td, at)) e.person = b->person;
    e.tag = td.tag.id;
    e.source = "tag";
    e.at = Timestamp{at};
    e.position = td.pos;
    if (kind == FenceEvent::Kind::kExited) e.dwell = core::Duration{at - since};
    if (f.confined && !e.person.empty()) {
      TagOccupancy(f, e.person, td.tag.id, kind == FenceEvent::Kind::kEntered, at);
    }
    out.events.push_back(std::move(e));
    ++stats.events;
  }

  bool Inside(const FenceSlot& f, const TagData& td) {
    ++stats.fence_checks;
    return Contains(f.area, Vec2{td.pos.x, td.pos.y},
                    td.has_z ? std::optional<double>(td.pos.z) : std::nullopt);
  }

  // Brings every positioned tag of the slot's site in line with the slot's area (a new
  // or changed permit fence): entered/exited events at `now`.
  void Rescan(std::uint32_t slot, std::int64_t now, Output& out) {
    const FenceSlot& f = slots[slot];
    if (f.site == nullptr) return;
    for (TagIndex ti : f.site->tags) {
      TagData& td = tags[ti];
      if (td.t == kNever) continue;
      auto it = std::lower_bound(td.fences.begin(), td.fences.end(), slot,
                                 [](const Membership& m, std::uint32_t s) { return m.slot < s; });
      bool member = it != td.fences.end() && it->slot == slot;
      bool inside = f.in_grid && Inside(f, td);
      if (inside && !member) {
        td.fences.insert(it, Membership{slot, now});
        Emit(td, f, FenceEvent::Kind::kEntered, now, now, out);
      } else if (!inside && member) {
        std::int64_t since = it->since;
        td.fences.erase(it);
        Emit(td, f, FenceEvent::Kind::kExited, now, since, out);
      }
    }
  }

  // --- alarms ----------------------------------------------------------------------

  AlarmOp MakeOp(const RuleDef& r, OrgId org, std::string site, std::string zone,
                 std::string subject, const std::string& permit, PersonRef person,
                 const Vars& vars, Json evidence, double value, std::string unit,
                 std::int64_t now) const {
    AlarmOp op;
    op.op = AlarmOp::Op::kRaise;
    op.org = org;
    op.site = std::move(site);
    op.zone = std::move(zone);
    op.subject = std::move(subject);
    op.rule = r.id;
    op.clause = r.clause;
    op.check = r.check;
    op.level = r.level;
    op.actions = r.actions;
    if (!permit.empty()) op.permits = {permit};
    op.person = std::move(person);
    op.message_zh = FillTemplate(r.message_zh, vars);
    op.message_en = FillTemplate(r.message_en, vars);
    op.evidence = std::move(evidence);
    op.value = value;
    op.unit = std::move(unit);
    op.at = Timestamp{now};
    return op;
  }

  // A condition of rule `r` about `subject` holds now and is due (its grace over) at
  // `due`: an open alarm stays open for this Tick; otherwise one raise once due. `make`
  // builds the raise.
  template <typename Make>
  void Hold(const RuleDef& r, OrgId org, const std::string& subject, std::int64_t due,
            std::int64_t now, Output& out, Make&& make, TagIndex stale_tag = kNoTag) {
    std::string key = CondKey(org, r.id, subject);
    auto it = conds.find(key);
    if (it != conds.end()) {
      it->second.gen = gen;
      return;
    }
    if (now < due) return;
    Cond c;
    c.op = make();
    c.gen = gen;
    if (!c.op.permits.empty()) c.permit = c.op.permits.front();
    c.stale_tag = stale_tag;
    if (stale_tag != kNoTag) tags[stale_tag].stale_open = true;
    out.alarms.push_back(c.op);
    ++stats.alarms_raised;
    conds.emplace(std::move(key), std::move(c));
  }

  void ClearCond(std::map<std::string, Cond>::iterator it, std::int64_t now, Output& out) {
    AlarmOp op = it->second.op;
    op.op = AlarmOp::Op::kClear;
    op.at = Timestamp{now};
    out.alarms.push_back(std::move(op));
    if (it->second.stale_tag != kNoTag) tags[it->second.stale_tag].stale_open = false;
    if (it->second.jump_tag != kNoTag) tags[it->second.jump_tag].jump_open = false;
    conds.erase(it);
  }

  // --- derived state: watches of guardians and holders ------------------------------

  static std::string WatchKey(OrgId org, const std::string& number, const RuleDef& r, Role role,
                              std::size_t holder, const std::string& person, TagIndex ti) {
    std::string k = std::to_string(org.value);
    k += '\x1f';
    k += number;
    k += '\x1f';
    k += r.id;
    k += role == Role::kGuardian ? "\x1fg" : "\x1fh";
    k += std::to_string(holder);
    k += '\x1f';
    k += person;
    k += '\x1f';
    k += std::to_string(ti);
    return k;
  }

  bool Near(const PermitRec& p, const RuleDef& r, Vec3 pos, bool has_z, double dist) {
    if (dist <= r.max_distance_m) return true;
    if (p.slot == kNoSlot || !slots[p.slot].in_grid) return false;
    ++stats.fence_checks;
    return Contains(p.ctx.fence, Vec2{pos.x, pos.y},
                    has_z ? std::optional<double>(pos.z) : std::nullopt);
  }

  void UpdateWatch(Watch& w, const PermitRec& p, const RuleDef& r, const TagData& td) {
    double d = Planar(td.pos, p.ctx.work_point);
    bool near = Near(p, r, td.pos, td.has_z, d);
    if (!w.known || near != w.near) {
      w.since = td.t;
      w.near = near;
      w.known = true;
    }
    w.t = td.t;
    w.pos = td.pos;
    w.has_z = td.has_z;
    w.dist = d;
  }

  void AddGroup(std::map<std::string, std::unique_ptr<Watch>>& next, PermitRec& p,
                const RuleDef& r, Role role, std::size_t holder, const PersonRef& person) {
    WatchGroup g;
    g.rule = &r;
    g.role = role;
    g.holder = holder;
    g.person = person;
    std::string pkey = person.Key();
    auto org_it = person_tags.find(p.ctx.org.value);
    if (org_it != person_tags.end()) {
      auto it = org_it->second.find(pkey);
      if (it != org_it->second.end()) {
        for (TagIndex ti : it->second) {
          TagData& td = tags[ti];
          if (td.site == nullptr || td.site->code != p.ctx.site) continue;
          std::string key = WatchKey(p.ctx.org, p.ctx.number, r, role, holder, pkey, ti);
          auto old = watches.find(key);
          std::unique_ptr<Watch> w;
          if (old != watches.end()) {
            w = std::move(old->second);
          } else {
            w = std::make_unique<Watch>();
            w->tag = ti;
          }
          w->permit = &p;
          w->rule = &r;
          w->person = person;
          // (Re)evaluate against the current position: the permit's area may have changed.
          if (td.t != kNever) {
            const Binding* b = BindingAt(td, td.t);
            if (b != nullptr && b->person == person) UpdateWatch(*w, p, r, td);
          }
          g.watches.push_back(w.get());
          td.watches.push_back(w.get());
          next.emplace(std::move(key), std::move(w));
        }
      }
    }
    p.groups.push_back(std::move(g));
  }

  void RebuildDerived() {
    for (auto& td : tags) td.watches.clear();
    std::map<std::string, std::unique_ptr<Watch>> next;
    for (auto& [org, by_number] : permits) {
      for (auto& [number, rec] : by_number) {
        PermitRec& p = *rec;
        p.groups.clear();
        for (const RuleDef* r : guardian_rules) {
          if (!r->AppliesTo(p.ctx.type)) continue;
          for (const auto& g : p.ctx.guardians) AddGroup(next, p, *r, Role::kGuardian, 0, g);
        }
        for (const RuleDef* r : holder_rules) {
          if (!r->AppliesTo(p.ctx.type)) continue;
          for (std::size_t h = 0; h < p.ctx.holders.size(); ++h) {
            AddGroup(next, p, *r, Role::kHolder, h, p.ctx.holders[h].person);
          }
        }
      }
    }
    watches = std::move(next);
    derived_dirty = false;
  }

  void EnsureDerived() {
    if (derived_dirty) RebuildDerived();
  }

  // --- intake ----------------------------------------------------------------------

  PositionVerdict Reject(PositionVerdict v) {
    ++rejected[static_cast<std::size_t>(v)];
    return v;
  }

  PositionVerdict Ingest(TagIndex ti, const PositionFix& fix, std::int64_t now, Output& out) {
    ++stats.fixes;
    if (ti >= tags.size()) return Reject(PositionVerdict::kUnknownTag);
    EnsureDerived();
    TagData& td = tags[ti];
    if (!td.tag.enabled) return Reject(PositionVerdict::kDisabled);
    if (td.site == nullptr) return Reject(PositionVerdict::kUnknownTag);
    // 1. Validate.
    if (!Finite(fix.x) || !Finite(fix.y) || (fix.z && !Finite(*fix.z)) ||
        (fix.accuracy_m && !Finite(*fix.accuracy_m))) {
      return Reject(PositionVerdict::kNotFinite);
    }
    double acc = fix.accuracy_m ? *fix.accuracy_m : -1;
    if (fix.accuracy_m && acc < 0) return Reject(PositionVerdict::kOutOfRange);
    if (book.max_accuracy_m() > 0 && acc > book.max_accuracy_m()) {
      return Reject(PositionVerdict::kPoorAccuracy);
    }
    const std::int64_t ft = fix.time.micros;
    if (ft > now + opt.max_future.micros) return Reject(PositionVerdict::kTooFarFuture);
    if (ft < now - opt.max_age.micros) return Reject(PositionVerdict::kTooOld);
    if (td.t != kNever) {
      if (ft == td.t) return Reject(PositionVerdict::kDuplicate);
      if (ft < td.t) return Reject(PositionVerdict::kOutOfOrder);
    }
    // 2. Into the site frame.
    const SiteState& site = *td.site;
    Vec3 p;
    const bool has_z = fix.z.has_value();
    if (has_z && std::abs(*fix.z) > kMaxHeight) return Reject(PositionVerdict::kOutOfRange);
    if (fix.frame == PositionFix::Frame::kLocal) {
      if (std::abs(fix.x) > kMaxLocalCoordinate || std::abs(fix.y) > kMaxLocalCoordinate) {
        return Reject(PositionVerdict::kOutOfRange);
      }
      // FrameTransform::Apply with the rotation's sine and cosine cached per site.
      const FrameTransform& u = site.frame.uwb;
      p.x = fix.x * site.cos_r - fix.y * site.sin_r + u.dx;
      p.y = fix.x * site.sin_r + fix.y * site.cos_r + u.dy;
      p.z = has_z ? *fix.z + u.dz : 0;
    } else {
      if (!site.local) return Reject(PositionVerdict::kNoSiteOrigin);
      if (!ValidateLatLon(LatLon{fix.x, fix.y}, "fix").ok()) {
        return Reject(PositionVerdict::kOutOfRange);
      }
      Vec2 l = site.local->ToLocal(LatLon{fix.x, fix.y});
      p = Vec3{l.x, l.y, has_z ? *fix.z : 0};
    }
    if (!Finite(p.x) || !Finite(p.y) || !Finite(p.z) || std::abs(p.x) > kMaxLocalCoordinate ||
        std::abs(p.y) > kMaxLocalCoordinate || std::abs(p.z) > kMaxHeight) {
      return Reject(PositionVerdict::kOutOfRange);
    }
    // 3. Plausible speed.
    if (jump_rule != nullptr && td.t != kNever) {
      const double speed = jump_rule->max_speed_mps;
      auto plausible = [&](Vec3 from, std::int64_t from_t, double from_acc) {
        double allow = speed * Secs(ft - from_t) + std::max(from_acc, 0.0) +
                       std::max(acc, 0.0) + 1.0;
        return std::hypot(p.x - from.x, p.y - from.y) <= allow;
      };
      if (!plausible(td.pos, td.t, td.acc)) {
        // Recovery: two consistent fixes far from the last accepted one mean the tag really
        // moved (a gap, or the last accepted fix was the outlier): accept the second.
        bool recovered = td.pending_jump && ft > td.jump_t && plausible(td.jump_pos, td.jump_t,
                                                                          td.jump_acc);
        if (!recovered) {
          RecordJump(ti, p, ft, acc, now, out);
          return Reject(PositionVerdict::kImplausibleJump);
        }
      }
    }
    // 4. Accept.
    td.pending_jump = false;
    td.t = ft;
    td.pos = p;
    td.has_z = has_z;
    td.acc = acc;
    if (td.moved_at == kNever || std::hypot(p.x - td.anchor.x, p.y - td.anchor.y) > movement_m) {
      td.anchor = Vec2{p.x, p.y};
      td.moved_at = ft;
    }
    UpdateFences(td, ft, out);
    if (!td.watches.empty()) {
      const Binding* b = BindingAt(td, ft);
      for (Watch* w : td.watches) {
        if (b != nullptr && b->person == w->person) UpdateWatch(*w, *w->permit, *w->rule, td);
      }
    }
    if (td.stale_open) {
      for (auto it = conds.begin(); it != conds.end(); ++it) {
        if (it->second.stale_tag == ti) {
          ClearCond(it, now, out);
          break;
        }
      }
      td.stale_open = false;
    }
    ++stats.accepted;
    return PositionVerdict::kAccepted;
  }

  void RecordJump(TagIndex ti, Vec3 p, std::int64_t ft, double acc, std::int64_t now,
                  Output& out) {
    TagData& td = tags[ti];
    const RuleDef& r = *jump_rule;
    double dist = std::hypot(p.x - td.pos.x, p.y - td.pos.y);
    double dt = Secs(ft - td.t);
    td.pending_jump = true;
    td.jump_pos = p;
    td.jump_t = ft;
    td.jump_acc = acc;
    auto& times = td.jump_times;
    times.erase(std::remove_if(times.begin(), times.end(),
                               [&](std::int64_t t) { return t <= now - r.window.micros; }),
                times.end());
    times.push_back(now);
    if (td.jump_open || static_cast<int>(times.size()) < r.count) return;
    double speed = dt > 0 ? dist / dt : std::numeric_limits<double>::infinity();
    std::string subject = "tag:" + td.tag.id;
    PersonRef person;
    if (const Binding* b = BindingAt(td, ft)) person = b->person;
    Vars vars = {{"tag", td.tag.id},
                 {"person", person.empty() ? td.tag.id : person.code},
                 {"speed", Fixed(speed, 1)},
                 {"count", std::to_string(times.size())},
                 {"minutes", Fixed(Secs(r.window.micros) / 60, 0)}};
    Json ev = {{"tag", td.tag.id},
               {"count", times.size()},
               {"window_s", Secs(r.window.micros)},
               {"max_speed_mps", r.max_speed_mps},
               {"speed_mps", std::isfinite(speed) ? Json(speed) : Json(nullptr)},
               {"from", PosJson(td.pos, td.has_z)},
               {"from_time", Iso(td.t)},
               {"to", PosJson(p, td.has_z)},
               {"to_time", Iso(ft)}};
    if (!person.empty()) ev["person"] = person.Key();
    Cond c;
    c.op = MakeOp(r, td.tag.org, td.site->code, "", subject, "", person, vars, std::move(ev),
                  std::isfinite(speed) ? speed : 0, "m/s", now);
    c.gen = gen;
    c.jump_tag = ti;
    td.jump_open = true;
    out.alarms.push_back(c.op);
    ++stats.alarms_raised;
    conds[CondKey(td.tag.org, r.id, subject)] = std::move(c);
  }

  void UpdateFences(TagData& td, std::int64_t ft, Output& out) {
    scratch_ids.clear();
    td.site->grid.Query(Vec2{td.pos.x, td.pos.y}, scratch_ids);
    scratch_in.clear();
    const std::optional<double> z = td.has_z ? std::optional<double>(td.pos.z) : std::nullopt;
    for (std::uint32_t id : scratch_ids) {
      const FenceSlot& f = slots[id];
      ++stats.fence_checks;
      if (Contains(f.area, Vec2{td.pos.x, td.pos.y}, z)) scratch_in.push_back(id);
    }
    std::sort(scratch_in.begin(), scratch_in.end());
    const auto& old = td.fences;
    if (old.size() == scratch_in.size() &&
        std::equal(scratch_in.begin(), scratch_in.end(), old.begin(),
                   [](std::uint32_t s, const Membership& m) { return s == m.slot; })) {
      return;  // steady state: same fences
    }
    scratch_mem.clear();
    std::size_t i = 0, j = 0;
    // Exits first, then entries, each in slot order.
    for (const auto& m : old) {
      if (!std::binary_search(scratch_in.begin(), scratch_in.end(), m.slot)) {
        Emit(td, slots[m.slot], FenceEvent::Kind::kExited, ft, m.since, out);
      }
    }
    while (i < old.size() || j < scratch_in.size()) {
      if (j == scratch_in.size() || (i < old.size() && old[i].slot < scratch_in[j])) {
        ++i;  // exited
      } else if (i == old.size() || scratch_in[j] < old[i].slot) {
        scratch_mem.push_back(Membership{scratch_in[j], ft});
        Emit(td, slots[scratch_in[j]], FenceEvent::Kind::kEntered, ft, ft, out);
        ++j;
      } else {
        scratch_mem.push_back(old[i]);
        ++i;
        ++j;
      }
    }
    td.fences.assign(scratch_mem.begin(), scratch_mem.end());
  }

  // --- time-driven rules -------------------------------------------------------------

  void TickPermit(PermitRec& p, std::int64_t now, Output& out) {
    const PermitContext& c = p.ctx;
    const std::string pfence = "permit:" + c.number;
    if (c.active) {
      for (const RuleDef* r : guardian_rules) {
        if (r->AppliesTo(c.type)) GuardianRule(p, *r, now, out);
      }
      for (const RuleDef* r : holder_rules) {
        if (r->AppliesTo(c.type)) HolderRule(p, *r, now, out);
      }
    }
    for (const RuleDef* r : confined_rules) {
      if (!r->AppliesTo(c.type) || c.active) continue;
      auto org_it = occupancy.find(c.org.value);
      if (org_it == occupancy.end()) continue;
      auto it = org_it->second.find(c.number);
      if (it == org_it->second.end() || it->second.occupants.empty()) continue;
      const Occupancy& o = it->second;
      std::int64_t due = std::max(p.inactive_since, o.occupied_since) + r->grace.micros;
      Hold(*r, c.org, "permit:" + c.number + "/occupied", due, now, out, [&] {
        std::string names;
        Json people = Json::array();
        for (const auto& oc : o.occupants) {
          if (!names.empty()) names += ", ";
          names += oc.person.code;
          people.push_back({{"person", oc.person.Key()},
                            {"tag", oc.tag},
                            {"source", oc.source},
                            {"since", Iso(oc.since.micros)}});
        }
        Json tools = Json::object();
        for (const auto& [tool, n] : o.tools) {
          if (n > 0) tools[tool] = n;
        }
        Vars vars = {{"permit", c.number},
                     {"fence", pfence},
                     {"count", std::to_string(o.occupants.size())},
                     {"person", names}};
        Json ev = {{"permit", c.number},
                   {"occupants", people},
                   {"tools", tools},
                   {"suspended_since", Iso(p.inactive_since)}};
        return MakeOp(*r, c.org, c.site, c.zone, "permit:" + c.number + "/occupied", c.number, {},
                      vars, std::move(ev), static_cast<double>(o.occupants.size()), "people",
                      now);
      });
    }
  }

  void GuardianRule(PermitRec& p, const RuleDef& r, std::int64_t now, Output& out) {
    const PermitContext& c = p.ctx;
    bool monitored = false, present = false;
    std::int64_t present_until = kNever;
    const Watch* nearest = nullptr;
    const PersonRef* nearest_person = nullptr;
    for (const auto& g : p.groups) {
      if (g.rule != &r || g.role != Role::kGuardian) continue;
      for (const Watch* w : g.watches) {
        const Binding* b = BindingAt(tags[w->tag], now);
        if (b == nullptr || b->person != g.person) continue;
        monitored = true;
        if (!w->known) continue;
        bool fresh = now - w->t <= r.stale_after.micros;
        if (w->near && fresh) present = true;
        // Until when this tag showed the guardian present: the fix that left, or the
        // moment a near position went stale.
        std::int64_t until = w->near ? std::min(now, w->t + r.stale_after.micros) : w->since;
        present_until = std::max(present_until, until);
        if (nearest == nullptr || w->dist < nearest->dist) {
          nearest = w;
          nearest_person = &g.person;
        }
      }
    }
    if (!monitored || present) return;  // unknown is not absence
    const std::int64_t absent_since = std::max(p.activation_start, present_until);
    const std::int64_t due = absent_since + r.grace.micros;
    std::string subject = "permit:" + c.number + "/guardian";
    Hold(r, c.org, subject, due, now, out, [&] {
      Json list = Json::array();
      std::string names;
      for (const auto& g : p.groups) {
        if (g.rule != &r || g.role != Role::kGuardian) continue;
        for (const Watch* w : g.watches) {
          const Binding* b = BindingAt(tags[w->tag], now);
          if (b == nullptr || b->person != g.person) continue;
          Json e = {{"person", g.person.Key()}, {"tag", tags[w->tag].tag.id}};
          if (w->known) {
            e["position"] = PosJson(w->pos, w->has_z);
            e["time"] = Iso(w->t);
            e["distance_m"] = w->dist;
          } else {
            e["position"] = nullptr;
          }
          list.push_back(std::move(e));
          if (names.find(g.person.code) == std::string::npos) {
            if (!names.empty()) names += ", ";
            names += g.person.code;
          }
        }
      }
      double absent_s = Secs(now - absent_since);
      Vars vars = {{"permit", c.number},
                   {"person", names},
                   {"minutes", Fixed(absent_s / 60, 1)},
                   {"distance", nearest ? Fixed(nearest->dist, 0) : std::string("?")},
                   {"fence", "permit:" + c.number}};
      Json ev = {{"permit", c.number},
                 {"guardians", std::move(list)},
                 {"max_distance_m", r.max_distance_m},
                 {"absent_since", Iso(absent_since)},
                 {"work_point", {{"x", c.work_point.x}, {"y", c.work_point.y}}}};
      PersonRef who = nearest_person ? *nearest_person : PersonRef{};
      return MakeOp(r, c.org, c.site, c.zone, subject, c.number, who, vars, std::move(ev),
                    absent_s, "s", now);
    });
  }

  void HolderRule(PermitRec& p, const RuleDef& r, std::int64_t now, Output& out) {
    const PermitContext& c = p.ctx;
    for (const auto& g : p.groups) {
      if (g.rule != &r || g.role != Role::kHolder) continue;
      const Watch* freshest = nullptr;
      for (const Watch* w : g.watches) {
        const Binding* b = BindingAt(tags[w->tag], now);
        if (b == nullptr || b->person != g.person || !w->known) continue;
        if (freshest == nullptr || w->t > freshest->t) freshest = w;
      }
      if (freshest == nullptr || freshest->near) continue;
      if (now - freshest->t > r.stale_after.micros) continue;  // stale: unknown, not absent
      std::int64_t due = std::max(freshest->since, p.activation_start) + r.grace.micros;
      const auto& h = c.holders[g.holder];
      std::string subject = "permit:" + c.number + "/" + g.person.Key();
      Hold(r, c.org, subject, due, now, out, [&] {
        std::int64_t away_since = std::max(freshest->since, p.activation_start);
        Vars vars = {{"permit", c.number},
                     {"person", g.person.code},
                     {"certificate", h.certificate_number},
                     {"distance", Fixed(freshest->dist, 0)},
                     {"minutes", Fixed(Secs(now - away_since) / 60, 1)},
                     {"fence", "permit:" + c.number},
                     {"tag", tags[freshest->tag].tag.id}};
        Json ev = {{"certificate", h.certificate_number},
                   {"person", g.person.Key()},
                   {"role", h.role},
                   {"permit", c.number},
                   {"tag", tags[freshest->tag].tag.id},
                   {"position", PosJson(freshest->pos, freshest->has_z)},
                   {"time", Iso(freshest->t)},
                   {"distance_m", freshest->dist},
                   {"max_distance_m", r.max_distance_m},
                   {"away_since", Iso(away_since)}};
        return MakeOp(r, c.org, c.site, c.zone, subject, c.number, g.person, vars, std::move(ev),
                      freshest->dist, "m", now);
      });
    }
  }

  // Permit-independent and per-tag rules: unauthorized entry, lone worker, stale tags,
  // jump bursts.
  void TickTag(TagIndex ti, std::int64_t now, Output& out) {
    TagData& td = tags[ti];
    if (jump_rule != nullptr && td.jump_open) {
      auto& times = td.jump_times;
      const std::int64_t cutoff = now - jump_rule->window.micros;
      times.erase(std::remove_if(times.begin(), times.end(),
                                 [cutoff](std::int64_t t) { return t <= cutoff; }),
                  times.end());
      if (!times.empty()) {
        auto it = conds.find(CondKey(td.tag.org, jump_rule->id, "tag:" + td.tag.id));
        if (it != conds.end()) it->second.gen = gen;
      }
    }
    if (!td.tag.enabled || td.t == kNever) return;
    const Binding* b = BindingAt(td, now);
    if (b == nullptr) return;
    const PersonRef& person = b->person;
    const OrgId org = td.tag.org;
    auto org_permits = permits.find(org.value);
    // Unauthorized entry and lone-worker candidates from the fences the tag is inside.
    std::int64_t lone_since = kForever;
    const FenceSlot* lone_fence = nullptr;
    for (const Membership& m : td.fences) {
      const FenceSlot& f = slots[m.slot];
      if (f.is_permit) {
        const PermitRec& p = *f.rec;
        for (const RuleDef* r : unauth_rules) {
          if (r->scope != "permit" || !r->AppliesTo(p.ctx.type)) continue;
          if (Has(p.ctx.authorized, person)) continue;
          std::int64_t due = std::max(m.since, p.auth_changed_at) + r->grace.micros;
          std::string subject = "permit:" + p.ctx.number + "/" + person.Key();
          Hold(*r, org, subject, due, now, out, [&] {
            Vars vars = {{"person", person.code}, {"permit", p.ctx.number}, {"fence", f.id},
                         {"tag", td.tag.id},
                         {"minutes", Fixed(Secs(now - m.since) / 60, 1)}};
            Json ev = {{"person", person.Key()},
                       {"tag", td.tag.id},
                       {"permit", p.ctx.number},
                       {"fence", f.id},
                       {"position", PosJson(td.pos, td.has_z)},
                       {"time", Iso(td.t)},
                       {"entered_at", Iso(m.since)}};
            return MakeOp(*r, org, p.ctx.site, p.ctx.zone, subject, p.ctx.number, person, vars,
                          std::move(ev), Secs(now - m.since), "s", now);
          });
        }
        if (p.ctx.active) {
          for (const RuleDef* r : lone_rules) {
            if (r->AppliesTo(p.ctx.type) && m.since < lone_since) {
              lone_since = m.since;
              lone_fence = &f;
            }
          }
        }
      } else {
        if (f.restricted) RestrictedRule(td, m, f, person, org_permits, now, out);
        if (f.hazardous && !lone_rules.empty() && m.since < lone_since) {
          lone_since = m.since;
          lone_fence = &f;
        }
      }
    }
    if (lone_fence != nullptr) {
      for (const RuleDef* r : lone_rules) {
        if (lone_fence->is_permit && !r->AppliesTo(lone_fence->rec->ctx.type)) continue;
        if (now - td.t > r->stale_after.micros) continue;  // stale: unknown
        std::int64_t still_since = std::max(td.moved_at, lone_since);
        std::int64_t due = still_since + r->still_for.micros;
        if (now < due) continue;
        std::string subject = "person:" + person.Key();
        const FenceSlot& f = *lone_fence;
        Hold(*r, org, subject, due, now, out, [&] {
          Vars vars = {{"person", person.code},
                       {"fence", f.id},
                       {"permit", f.permit},
                       {"tag", td.tag.id},
                       {"minutes", Fixed(Secs(now - still_since) / 60, 1)}};
          Json ev = {{"person", person.Key()},
                     {"tag", td.tag.id},
                     {"fence", f.id},
                     {"position", PosJson(td.pos, td.has_z)},
                     {"time", Iso(td.t)},
                     {"still_since", Iso(still_since)},
                     {"movement_m", r->movement_m}};
          return MakeOp(*r, org, td.site->code, f.zone, subject, f.permit, person, vars,
                        std::move(ev), Secs(now - still_since), "s", now);
        });
      }
    }
    // Stale tag of a person on an active permit of the tag's site (the latest activated
    // one, looked up in the index Tick builds once).
    if (!stale_rules.empty() && org_permits != permits.end()) {
      const PermitRec* on = nullptr;
      if (auto hit = active_on.find(ActiveKey(org, td.site->code, person)); hit != active_on.end()) {
        on = hit->second;
      }
      const std::int64_t act = on != nullptr ? on->activation_start : kNever;
      if (on != nullptr) {
        for (const RuleDef* r : stale_rules) {
          std::int64_t start = std::max(td.t, act);
          std::int64_t due = start + r->after.micros;
          if (now < due) continue;
          std::string subject = "tag:" + td.tag.id;
          Hold(
              *r, org, subject, due, now, out,
              [&] {
                Vars vars = {{"person", person.code},
                             {"tag", td.tag.id},
                             {"permit", on->ctx.number},
                             {"minutes", Fixed(Secs(now - td.t) / 60, 1)}};
                Json ev = {{"tag", td.tag.id},
                           {"person", person.Key()},
                           {"permit", on->ctx.number},
                           {"last_fix", Iso(td.t)},
                           {"position", PosJson(td.pos, td.has_z)},
                           {"after_s", Secs(r->after.micros)}};
                return MakeOp(*r, org, td.site->code, on->ctx.zone, subject, on->ctx.number,
                              person, vars, std::move(ev), Secs(now - td.t), "s", now);
              },
              ti);
        }
      }
    }
  }

  template <typename It>
  void RestrictedRule(const TagData& td, const Membership& m, const FenceSlot& f,
                      const PersonRef& person, It org_permits, std::int64_t now, Output& out) {
    std::int64_t changed = kNever;
    if (org_permits != permits.end()) {
      for (const auto& [number, rec] : org_permits->second) {
        const auto& c = rec->ctx;
        if (c.site != f.site->code || c.zone != f.zone) continue;
        changed = std::max(changed, rec->auth_changed_at);
        if (c.active && Has(c.authorized, person)) return;  // authorized
      }
    }
    for (const RuleDef* r : unauth_rules) {
      if (r->scope != "restricted") continue;
      std::int64_t due = std::max(m.since, changed) + r->grace.micros;
      std::string subject = "fence:" + f.id + "/" + person.Key();
      Hold(*r, f.org, subject, due, now, out, [&] {
        Vars vars = {{"person", person.code}, {"fence", f.id}, {"tag", td.tag.id},
                     {"minutes", Fixed(Secs(now - m.since) / 60, 1)}};
        Json ev = {{"person", person.Key()},
                   {"tag", td.tag.id},
                   {"fence", f.id},
                   {"zone", f.zone},
                   {"position", PosJson(td.pos, td.has_z)},
                   {"time", Iso(td.t)},
                   {"entered_at", Iso(m.since)}};
        return MakeOp(*r, f.org, f.site->code, f.zone, subject, "", person, vars, std::move(ev),
                      Secs(now - m.since), "s", now);
      });
    }
  }

  static std::string ActiveKey(OrgId org, const std::string& site, const PersonRef& person) {
    std::string k = std::to_string(org.value);
    k += '\x1f';
    k += site;
    k += '\x1f';
    k += person.Key();
    return k;
  }

  // (org, site, person) -> the latest-activated active permit naming them: built once per
  // Tick so the per-tag rules look a person up instead of scanning every permit.
  void BuildActiveOn() {
    active_on.clear();
    if (stale_rules.empty()) return;
    for (const auto& [org, by_number] : permits) {
      for (const auto& [number, rec] : by_number) {
        const auto& c = rec->ctx;
        if (!c.active) continue;
        for (const PersonRef& person : c.authorized) {
          auto [it, fresh] = active_on.try_emplace(ActiveKey(OrgId{org}, c.site, person), rec.get());
          if (!fresh && rec->activation_start > it->second->activation_start) {
            it->second = rec.get();
          }
        }
      }
    }
  }

  void Tick(std::int64_t now, Output& out) {
    EnsureDerived();
    ++gen;
    BuildActiveOn();
    for (auto& [org, by_number] : permits) {
      for (auto& [number, rec] : by_number) TickPermit(*rec, now, out);
    }
    for (TagIndex ti = 0; ti < tags.size(); ++ti) TickTag(ti, now, out);
    for (auto it = conds.begin(); it != conds.end();) {
      auto next = std::next(it);
      if (it->second.gen != gen) ClearCond(it, now, out);
      it = next;
    }
  }

  // --- permits -----------------------------------------------------------------------

  void SetPermits(OrgId org, std::vector<PermitContext> list, std::int64_t now, Output& out) {
    auto& current = permits[org.value];
    std::map<std::string, PermitContext, std::less<>> next;
    for (auto& c : list) {
      c.org = org;
      std::string number = c.number;
      next[number] = std::move(c);
    }
    // Gone: clear their alarms, drop occupancy and fences.
    for (auto it = current.begin(); it != current.end();) {
      if (next.count(it->first) != 0) {
        ++it;
        continue;
      }
      for (auto ci = conds.begin(); ci != conds.end();) {
        auto cn = std::next(ci);
        if (ci->second.op.org == org && ci->second.permit == it->first) ClearCond(ci, now, out);
        ci = cn;
      }
      auto occ = occupancy.find(org.value);
      if (occ != occupancy.end()) occ->second.erase(it->first);
      if (it->second->slot != kNoSlot) FreeSlot(it->second->slot);
      it = current.erase(it);
    }
    for (auto& [number, ctx] : next) {
      auto it = current.find(number);
      bool fresh = it == current.end();
      if (!fresh && Same(it->second->ctx, ctx)) continue;
      if (fresh) {
        auto rec = std::make_unique<PermitRec>();
        rec->activation_start =
            ctx.active_since.micros != 0 ? ctx.active_since.micros : now;
        if (!ctx.active) rec->inactive_since = now;
        it = current.emplace(number, std::move(rec)).first;
      }
      PermitRec& p = *it->second;
      bool fence_changed = fresh || !(p.ctx.fence == ctx.fence) || p.ctx.site != ctx.site;
      if (!fresh) {
        if (!p.ctx.active && ctx.active) p.activation_start = now;  // grace restarts
        if (p.ctx.active && !ctx.active) p.inactive_since = now;
      }
      if (fresh || p.ctx.active != ctx.active || p.ctx.authorized != ctx.authorized) {
        p.auth_changed_at = now;  // who may be inside changed: authorization timers restart
      }
      p.ctx = std::move(ctx);
      p.confined = ConfinedType(p.ctx.type);
      if (fence_changed) {
        if (p.slot != kNoSlot && slots[p.slot].site != nullptr &&
            slots[p.slot].site->code != p.ctx.site) {
          FreeSlot(p.slot);
          p.slot = kNoSlot;
        }
        if (p.slot == kNoSlot) {
          if (used_slots >= opt.max_fences) continue;  // no room: no fence (queries still work)
          p.slot = AllocSlot();
        }
        FenceSlot& f = slots[p.slot];
        f.is_permit = true;
        f.org = org;
        f.site = &Site(org, p.ctx.site);
        f.id = "permit:" + p.ctx.number;
        f.permit = p.ctx.number;
        f.rec = &p;
        f.area = p.ctx.fence;
        f.enabled = ValidateArea(f.area, "fence").ok();
      }
      if (p.slot == kNoSlot) continue;  // no room for its fence (max_fences)
      FenceSlot& f = slots[p.slot];
      f.zone = p.ctx.zone;
      f.confined = p.confined;
      f.rec = &p;
      if (fence_changed) {
        Place(p.slot);
        Rescan(p.slot, now, out);
      }
    }
    derived_dirty = true;
  }

  // --- queries -----------------------------------------------------------------------

  TagState State(const TagData& td, std::int64_t now) const {
    TagState s;
    s.org = td.tag.org;
    s.tag = td.tag.id;
    s.site = td.tag.site;
    s.kind = td.tag.kind;
    if (const Binding* b = BindingAt(td, now)) s.person = b->person;
    if (td.t != kNever) {
      s.time = Timestamp{td.t};
      s.position = td.pos;
      s.has_z = td.has_z;
      if (td.acc >= 0) s.accuracy_m = td.acc;
      if (td.site != nullptr && td.site->local) {
        s.wgs84 = td.site->local->ToWgs84(Vec2{td.pos.x, td.pos.y});
      }
      if (!stale_rules.empty()) s.stale = now - td.t >= stale_rules.front()->after.micros;
    }
    for (const auto& m : td.fences) s.fences.push_back(slots[m.slot].id);
    return s;
  }

  const PermitRec* FindPermit(OrgId org, std::string_view number) const {
    auto it = permits.find(org.value);
    if (it == permits.end()) return nullptr;
    auto p = it->second.find(number);
    return p == it->second.end() ? nullptr : p->second.get();
  }
};

// --- Engine -------------------------------------------------------------------------------

Engine::Engine(const PresenceRulebook& book, EngineOptions options)
    : book_(book), impl_(std::make_unique<Impl>(book, options)) {}

Engine::~Engine() = default;

core::Result<TagIndex> Engine::UpsertTag(const presence::Tag& tag) {
  Impl& m = *impl_;
  if (!tag.org.valid()) return Status::InvalidArgument("organization required", "org");
  if (!ValidId(tag.id)) return Status::InvalidArgument("expected [A-Za-z0-9._-]{1,64}", "id");
  if (!ValidId(tag.site)) return Status::InvalidArgument("expected [A-Za-z0-9._-]{1,64}", "site");
  auto& ids = m.tag_ids[tag.org.value];
  auto it = ids.find(tag.id);
  if (it == ids.end()) {
    if (m.tags.size() >= m.opt.max_tags) {
      return Status::ResourceExhausted(
          "at most " + std::to_string(m.opt.max_tags) + " tags", "id");
    }
    auto ti = static_cast<TagIndex>(m.tags.size());
    m.tags.emplace_back();
    TagData& td = m.tags.back();
    td.tag = tag;
    td.site = &m.Site(tag.org, tag.site);
    td.site->tags.push_back(ti);
    ids.emplace(tag.id, ti);
    m.derived_dirty = true;
    return ti;
  }
  TagIndex ti = it->second;
  TagData& td = m.tags[ti];
  if (td.tag.site != tag.site) {
    // Another site: its position means nothing in the new frame.
    auto& old = td.site->tags;
    old.erase(std::remove(old.begin(), old.end(), ti), old.end());
    auto bindings = std::move(td.bindings);
    td = TagData{};
    td.bindings = std::move(bindings);
    td.site = &m.Site(tag.org, tag.site);
    td.site->tags.push_back(ti);
  }
  td.tag = tag;
  m.derived_dirty = true;
  return ti;
}

core::Status Engine::RemoveTag(core::OrgId org, std::string_view id) {
  auto i = FindTag(org, id);
  if (!i) return Status::NotFound("no tag '" + std::string(id) + "'", "id");
  impl_->tags[*i].tag.enabled = false;
  return Status::Ok();
}

std::optional<TagIndex> Engine::FindTag(core::OrgId org, std::string_view id) const {
  auto it = impl_->tag_ids.find(org.value);
  if (it == impl_->tag_ids.end()) return std::nullopt;
  auto t = it->second.find(id);
  if (t == it->second.end()) return std::nullopt;
  return t->second;
}

core::Status Engine::SetBindings(core::OrgId org, std::string_view tag,
                                 std::vector<Binding> bindings) {
  Impl& m = *impl_;
  auto i = FindTag(org, tag);
  if (!i) return Status::NotFound("no tag '" + std::string(tag) + "'", "tag");
  for (std::size_t k = 0; k < bindings.size(); ++k) {
    const auto& b = bindings[k];
    if (b.person.empty()) {
      return Status::InvalidArgument("person required",
                                     "bindings[" + std::to_string(k) + "].person");
    }
    if (b.valid_until && *b.valid_until <= b.valid_from) {
      return Status::InvalidArgument("must be after valid_from",
                                     "bindings[" + std::to_string(k) + "].valid_until");
    }
  }
  TagData& td = m.tags[*i];
  auto& index = m.person_tags[org.value];
  for (const auto& b : td.bindings) {
    auto it = index.find(b.person.Key());
    if (it == index.end()) continue;
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), *i), v.end());
    if (v.empty()) index.erase(it);
  }
  td.bindings = std::move(bindings);
  for (const auto& b : td.bindings) {
    auto& v = index[b.person.Key()];
    if (std::find(v.begin(), v.end(), *i) == v.end()) v.push_back(*i);
  }
  m.derived_dirty = true;
  return Status::Ok();
}

core::Status Engine::UpsertFence(const Fence& fence) {
  Impl& m = *impl_;
  if (!fence.org.valid()) return Status::InvalidArgument("organization required", "org");
  if (!ValidId(fence.id)) return Status::InvalidArgument("expected [A-Za-z0-9._-]{1,64}", "id");
  if (!ValidId(fence.site)) {
    return Status::InvalidArgument("expected [A-Za-z0-9._-]{1,64}", "site");
  }
  WG_RETURN_IF_ERROR(ValidateArea(fence.area, "area"));
  auto& ids = m.zone_fences[fence.org.value];
  auto it = ids.find(fence.id);
  std::uint32_t slot;
  if (it == ids.end()) {
    if (m.used_slots >= m.opt.max_fences) {
      return Status::ResourceExhausted(
          "at most " + std::to_string(m.opt.max_fences) + " fences", "id");
    }
    slot = m.AllocSlot();
    ids.emplace(fence.id, slot);
  } else {
    slot = it->second;
    FenceSlot& f = m.slots[slot];
    if (f.site->code != fence.site || !fence.enabled) {
      m.Unplace(slot);
      m.Purge(slot);  // memberships of another site (or of a disabled fence) are void
    }
  }
  FenceSlot& f = m.slots[slot];
  m.Unplace(slot);
  f.is_permit = false;
  f.enabled = fence.enabled;
  f.hazardous = fence.hazardous;
  f.restricted = fence.restricted;
  f.org = fence.org;
  f.site = &m.Site(fence.org, fence.site);
  f.id = fence.id;
  f.zone = fence.zone;
  f.area = fence.area;
  m.Place(slot);
  return Status::Ok();
}

core::Status Engine::RemoveFence(core::OrgId org, std::string_view id) {
  Impl& m = *impl_;
  auto it = m.zone_fences.find(org.value);
  if (it == m.zone_fences.end()) {
    return Status::NotFound("no fence '" + std::string(id) + "'", "id");
  }
  auto f = it->second.find(id);
  if (f == it->second.end()) return Status::NotFound("no fence '" + std::string(id) + "'", "id");
  m.FreeSlot(f->second);
  it->second.erase(f);
  return Status::Ok();
}

void Engine::SetSiteFrame(core::OrgId org, std::string_view site, const SiteFrame& frame) {
  SiteState& s = impl_->Site(org, site);
  s.frame = frame;
  if (frame.origin) {
    s.local.emplace(*frame.origin);
  } else {
    s.local.reset();
  }
  const double t = frame.uwb.rotation_deg * kDegToRad;
  s.cos_r = std::cos(t);
  s.sin_r = std::sin(t);
}

std::optional<SiteFrame> Engine::GetSiteFrame(core::OrgId org, std::string_view site) const {
  const SiteState* s = impl_->FindSite(org, site);
  if (s == nullptr) return std::nullopt;
  return s->frame;
}

void Engine::SetPermits(core::OrgId org, std::vector<PermitContext> permits, core::Timestamp now,
                        Output& out) {
  impl_->SetPermits(org, std::move(permits), now.micros, out);
}

PositionVerdict Engine::Ingest(core::OrgId org, std::string_view site, const PositionFix& fix,
                               core::Timestamp now, Output& out) {
  auto i = FindTag(org, fix.tag);
  if (!i || (!site.empty() && site != impl_->tags[*i].tag.site)) {
    ++impl_->stats.fixes;
    return impl_->Reject(PositionVerdict::kUnknownTag);
  }
  return impl_->Ingest(*i, fix, now.micros, out);
}

PositionVerdict Engine::Ingest(TagIndex tag, const PositionFix& fix, core::Timestamp now,
                               Output& out) {
  return impl_->Ingest(tag, fix, now.micros, out);
}

void Engine::Tick(core::Timestamp now, Output& out) { impl_->Tick(now.micros, out); }

core::Status Engine::ManualEntry(core::OrgId org, std::string_view permit,
                                 const PersonRef& person, bool entering,
                                 std::vector<std::string> tools, core::Timestamp at,
                                 Output& out) {
  Impl& m = *impl_;
  const PermitRec* p = m.FindPermit(org, permit);
  if (p == nullptr) {
    return Status::NotFound("no open permit '" + std::string(permit) + "'", "permit");
  }
  if (!p->confined) {
    return Status::InvalidArgument("permit type '" + p->ctx.type + "' has no entry register",
                                   "permit");
  }
  if (person.empty()) return Status::InvalidArgument("person required", "person");
  Occupancy& o = m.occupancy[org.value][p->ctx.number];
  auto it = std::find_if(o.occupants.begin(), o.occupants.end(),
                         [&](const Occupant& x) { return x.person == person; });
  FenceEvent e;
  e.org = org;
  e.site = p->ctx.site;
  e.zone = p->ctx.zone;
  e.fence = "permit:" + p->ctx.number;
  e.permit = p->ctx.number;
  e.confined = true;
  e.person = person;
  e.source = "manual";
  e.at = at;
  e.position = Vec3{p->ctx.work_point.x, p->ctx.work_point.y, 0};
  if (entering) {
    if (it != o.occupants.end()) {
      return Status::FailedPrecondition(person.Key() + " is already inside", "person");
    }
    if (o.occupants.empty()) o.occupied_since = at.micros;
    for (const auto& t : tools) ++o.tools[t];
    o.occupants.push_back(Occupant{person, "", at, "manual", tools});
    e.kind = FenceEvent::Kind::kEntered;
  } else {
    if (it == o.occupants.end()) {
      return Status::FailedPrecondition(person.Key() + " is not inside", "person");
    }
    for (const auto& t : tools) {
      auto ti = o.tools.find(t);
      if (ti != o.tools.end()) --ti->second;
    }
    e.kind = FenceEvent::Kind::kExited;
    e.dwell = at - it->since;
    o.occupants.erase(it);
  }
  e.tools = std::move(tools);
  out.events.push_back(std::move(e));
  ++m.stats.events;
  return Status::Ok();
}

void Engine::RestoreOccupants(core::OrgId org, std::string_view permit,
                              std::vector<Occupant> occupants,
                              std::map<std::string, int> tools_inside) {
  Occupancy& o = impl_->occupancy[org.value][std::string(permit)];
  o.occupied_since = kNever;
  for (const auto& oc : occupants) {
    if (o.occupied_since == kNever || oc.since.micros < o.occupied_since) {
      o.occupied_since = oc.since.micros;
    }
  }
  o.occupants = std::move(occupants);
  o.tools = std::move(tools_inside);
}

std::optional<TagState> Engine::Tag(TagIndex i, core::Timestamp now) const {
  if (i >= impl_->tags.size()) return std::nullopt;
  return impl_->State(impl_->tags[i], now.micros);
}

std::optional<TagState> Engine::LastPosition(core::OrgId org, const PersonRef& person,
                                             core::Timestamp now) const {
  const Impl& m = *impl_;
  auto org_it = m.person_tags.find(org.value);
  if (org_it == m.person_tags.end()) return std::nullopt;
  auto it = org_it->second.find(person.Key());
  if (it == org_it->second.end()) return std::nullopt;
  const TagData* best = nullptr;
  for (TagIndex ti : it->second) {
    const TagData& td = m.tags[ti];
    if (td.t == kNever) continue;
    const Binding* b = BindingAt(td, now.micros);
    if (b == nullptr || b->person != person) continue;
    if (best == nullptr || td.t > best->t) best = &td;
  }
  if (best == nullptr) return std::nullopt;
  return m.State(*best, now.micros);
}

std::vector<TagState> Engine::Positions(core::OrgId org, std::string_view site,
                                        core::Timestamp now) const {
  std::vector<TagState> out;
  const Impl& m = *impl_;
  auto it = m.tag_ids.find(org.value);
  if (it == m.tag_ids.end()) return out;
  for (const auto& [id, ti] : it->second) {
    const TagData& td = m.tags[ti];
    if (td.t == kNever) continue;
    if (!site.empty() && td.tag.site != site) continue;
    out.push_back(m.State(td, now.micros));
  }
  return out;
}

std::vector<Occupant> Engine::Occupants(core::OrgId org, std::string_view permit) const {
  auto it = impl_->occupancy.find(org.value);
  if (it == impl_->occupancy.end()) return {};
  auto o = it->second.find(permit);
  if (o == it->second.end()) return {};
  return o->second.occupants;
}

std::map<std::string, int> Engine::ToolsInside(core::OrgId org, std::string_view permit) const {
  std::map<std::string, int> out;
  auto it = impl_->occupancy.find(org.value);
  if (it == impl_->occupancy.end()) return out;
  auto o = it->second.find(permit);
  if (o == it->second.end()) return out;
  for (const auto& [tool, n] : o->second.tools) {
    if (n > 0) out[tool] = n;
  }
  return out;
}

std::vector<AlarmOp> Engine::OpenAlarms(core::OrgId org) const {
  std::vector<AlarmOp> out;
  for (const auto& [key, c] : impl_->conds) {
    if (c.op.org == org) out.push_back(c.op);
  }
  return out;
}

const EngineStats& Engine::stats() const {
  EngineStats& s = impl_->stats;
  for (std::size_t v = 0; v < kVerdicts; ++v) {
    if (impl_->rejected[v] != 0) {
      s.rejected[std::string(PositionVerdictName(static_cast<PositionVerdict>(v)))] =
          impl_->rejected[v];
    }
  }
  return s;
}

std::size_t Engine::tag_count() const { return impl_->tags.size(); }

std::size_t Engine::fence_count() const { return impl_->used_slots; }

}  // namespace wg::presence
