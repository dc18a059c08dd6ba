#pragma once
// PresenceService: people on site for one installation (every organization). It owns
// the presence::Engine and ties it to the world (docs/adr/0012-people-on-site.md):
//
//   sources (MQTT position topics, HTTP POST /api/v1/sites/{site}/positions)
//      │ Submit(): decoded fixes into a bounded queue (back-pressure like readings)
//      ▼
//   presence thread ── Engine::Ingest / Tick (every second) ──►
//      │  alarm ops  → MonitorService::RaiseExternal / ClearExternal (the same alarm
//      │               table, SOP, acknowledgement, notifications and stream; a
//      │               "suspend_permit" action stops that permit through the stop-work
//      │               thread)
//      │  fence events → the live stream ("presence" events); for confined-space permits
//      │               the register facts "confined.entered" / "confined.exited"
//      │               (subject "permit:<number>": who, when, tag or manual, tools)
//      │  positions  → the stream ("position" events, coalesced per tag) and the
//      ▼               TrajectorySealer → "trajectory.sealed" facts + trajectory blocks
//   Refresh() (the server calls it every second): open permits → PermitContexts (work
//   fence = the permit's polygon, or a circle of options.permit_radius_m round the work
//   point; guardians; performers with their verified certificates; everyone named)
//
// Hooks installed into PermitService by the server: UserPosition (approver on site) and
// CompletionBlocker (nobody and no declared tool left inside a confined space).
//
// Configuration (tags, bindings, zone fences, site frames) is stored with its facts
// ("tag.configured", "tag.deleted", "tag.bound", "tag.unbound", "fence.configured",
// "fence.deleted", "site_frame.configured") and applied to the engine at once.
//
// Thread-safety: every public method may be called from any thread.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/evidence/evidence.h"
#include "wg/ingest/decode.h"
#include "wg/live/service.h"
#include "wg/presence/engine.h"
#include "wg/presence/model.h"
#include "wg/presence/site_plan.h"
#include "wg/presence/rulebook.h"
#include "wg/presence/trajectory.h"
#include "wg/store/store.h"

namespace wg::permit {
class PermitService;
struct Permit;
struct Point;
struct Violation;
}  // namespace wg::permit

namespace wg::live {

struct PresenceOptions {
  std::size_t queue_capacity = 1 << 18;  // fixes
  presence::EngineOptions engine;
  core::Duration seal_grace = core::Duration::Seconds(5);
  double permit_radius_m = 15;  // work fence of a permit without a polygon
  bool start_threads = true;    // false: tests drive Pump() by hand
};

struct PresenceStats {
  std::uint64_t received = 0;
  std::uint64_t accepted = 0;
  std::map<std::string, std::uint64_t> rejected;  // verdict / decode reason -> count
  std::uint64_t dropped = 0;                      // queue full past the producer's deadline
  std::uint64_t queue_depth = 0, queue_capacity = 0;
  std::uint64_t events = 0;          // fence events
  std::uint64_t alarms_raised = 0;   // raise ops passed to the monitor
  std::uint64_t blocks_sealed = 0;   // trajectory blocks
  std::uint64_t persist_errors = 0;
  std::uint64_t tags = 0, fences = 0, permits = 0;  // engine sizes
};

struct TrajectoryAnswer {
  std::string tag;
  std::vector<presence::TrackPoint> points;
  struct BlockRef {
    core::Timestamp minute;
    int part = 0;
    std::int64_t count = 0;
    std::string sm3_hex;
    std::int64_t fact_seq = -1;
  };
  std::vector<BlockRef> blocks;
  std::int64_t unsealed = 0;
};
core::Json ToJson(const TrajectoryAnswer& a);

class PresenceService {
 public:
  // Everything must outlive the service; `permits` and `monitor` may be null (no permit
  // rules / no alarms — tests).
  PresenceService(store::Store& store, evidence::Evidence& evidence,
                  const presence::PresenceRulebook& book, const core::Clock& clock,
                  permit::PermitService* permits, MonitorService* monitor,
                  PresenceOptions options = {});
  ~PresenceService();  // Stop()
  PresenceService(const PresenceService&) = delete;
  PresenceService& operator=(const PresenceService&) = delete;

  // Loads tags, bindings, fences, site frames and the confined-space registers of open
  // permits from the store, refreshes the permits and starts the thread.
  core::Status Start();
  void Stop();  // drains, seals every open trajectory block, joins; idempotent

  // --- intake ---------------------------------------------------------------------------
  struct SubmitResult {
    std::size_t queued = 0;
    std::size_t rejected = 0;
    std::vector<ingest::Rejection> rejections;  // first 100
  };
  // `site` is the site the fixes were sent for; each fix's tag must be a tag of that site
  // (checked by the engine: unknown_tag). kResourceExhausted when the queue stays full
  // past `wait` (nothing queued).
  core::Result<SubmitResult> Submit(core::OrgId org, const std::string& site,
                                    std::vector<presence::PositionFix> fixes, core::Duration wait);
  core::Result<SubmitResult> SubmitByCode(const std::string& org_code, const std::string& site,
                                          std::vector<presence::PositionFix> fixes,
                                          core::Duration wait);
  void CountRejected(const std::vector<ingest::Rejection>& rejections);

  // --- configuration --------------------------------------------------------------------
  core::Result<presence::Tag> PutTag(core::OrgId org, presence::Tag tag,
                                     std::int64_t expected_version, const Actor& actor);
  core::Status DeleteTag(core::OrgId org, const std::string& id, const Actor& actor);
  core::Result<std::vector<presence::Tag>> ListTags(core::OrgId org);
  core::Result<presence::Tag> GetTag(core::OrgId org, const std::string& id);
  // The person must exist in the organization (worker code / username).
  core::Result<presence::Binding> Bind(core::OrgId org, presence::Binding binding,
                                       const Actor& actor);
  core::Result<presence::Binding> Unbind(core::OrgId org, std::int64_t binding_id,
                                         core::Timestamp until, const Actor& actor);
  core::Result<std::vector<presence::Binding>> ListBindings(core::OrgId org,
                                                            const std::string& tag);
  core::Result<presence::Fence> PutFence(core::OrgId org, presence::Fence fence,
                                         std::int64_t expected_version, const Actor& actor);
  core::Status DeleteFence(core::OrgId org, const std::string& id, const Actor& actor);
  core::Result<std::vector<presence::Fence>> ListFences(core::OrgId org);
  core::Result<presence::Fence> GetFence(core::OrgId org, const std::string& id);
  core::Result<presence::SiteFrame> PutSiteFrame(core::OrgId org, const std::string& site,
                                                 presence::SiteFrame frame, const Actor& actor);
  core::Result<presence::SiteFrame> GetSiteFrame(core::OrgId org, const std::string& site);
  // The site's plan (presence/site_plan.h), stored with fact "site_plan.configured";
  // `expected_version` 0 creates, else must match (optimistic concurrency, like fences).
  // kNotFound for an unknown site.
  core::Result<presence::SitePlan> PutSitePlan(core::OrgId org, const std::string& site,
                                               presence::SitePlan plan,
                                               std::int64_t expected_version, const Actor& actor);
  // The plan and its store version; kNotFound when the site has none.
  core::Result<std::pair<presence::SitePlan, std::int64_t>> GetSitePlan(core::OrgId org,
                                                                        const std::string& site);

  // --- confined-space register ----------------------------------------------------------
  // A manual entry/exit (the guardian's phone, for people without a tag), recorded as
  // "confined.entered"/"confined.exited". kNotFound unknown permit; kFailedPrecondition
  // when the permit is not open or has no register, entering twice, exiting when not in.
  core::Status RegisterEntry(core::OrgId org, std::int64_t permit_id,
                             const presence::PersonRef& person, bool entering,
                             std::vector<std::string> tools, const Actor& actor);
  // {"permit", "number", "entries": [{"time","direction","person","name"?,"tag","source",
  //   "tools"}], "inside": [...occupants], "tools_inside": {tool: n}, "headcount"}
  core::Result<core::Json> Register(core::OrgId org, std::int64_t permit_id);
  // The same entries as CSV (UTF-8 with BOM, header row), for export.
  core::Result<std::string> RegisterCsv(core::OrgId org, std::int64_t permit_id);

  // --- queries --------------------------------------------------------------------------
  core::Result<std::vector<presence::TagState>> Positions(core::OrgId org, const std::string& site);
  core::Result<TrajectoryAnswer> Trajectory(core::OrgId org, const std::string& tag,
                                            core::Timestamp from, core::Timestamp to);
  // Sites (with a WGS-84 origin) and open permits of `org` within `radius_km` of
  // (lat, lon): {"sites": [{"code","name","distance_km","lat","lon"}], "permits":
  // [{"number","site","type","state","distance_km","lat","lon"}]}, nearest first.
  core::Result<core::Json> Region(core::OrgId org, presence::LatLon centre, double radius_km);

  // --- permit hooks ---------------------------------------------------------------------
  // The user's freshest tag position on `site` (site frame) and its time.
  std::optional<std::pair<permit::Point, core::Timestamp>> UserPosition(core::OrgId org,
                                                                        const std::string& site,
                                                                        const std::string& username);
  // A violation naming rule "presence.confined_occupied_suspended" (the confined_headcount
  // rule with block_completion) while anyone or a declared tool is inside; else nullopt.
  std::optional<permit::Violation> CompletionBlocker(core::OrgId org, const permit::Permit& p);
  // Why `p` may not resume yet: it has guardians with tag positions and none of them is at
  // the work (fresh position inside the fence or within the guardian rule's distance) —
  // GB 30871-2022 §4.10 f). nullopt when one is, or when no guardian's position is known.
  // The server combines it with the monitor's resume guard.
  std::optional<std::string> ResumeBlocker(core::OrgId org, const permit::Permit& p);
  // Re-reads the open permits into the engine.
  core::Status Refresh();

  // --- observation ----------------------------------------------------------------------
  PresenceStats Stats() const;
  // Waits until everything submitted before the call is processed and its facts synced.
  core::Status Flush(core::Duration timeout = core::Duration::Seconds(30));
  void Pump();  // tests, when start_threads is false: process the queue and Tick once
  const presence::PresenceRulebook& rulebook() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wg::live
