// The `presence` commands (presence_commands.h).
#include "presence_commands.h"

#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "cli_common.h"
#include "wg/core/clock.h"
#include "wg/core/json.h"
#include "wg/core/time.h"
#include "wg/presence/geo.h"
#include "wg/presence/model.h"
#include "wg/presence/trajectory.h"
#include "wg/server/installation.h"

namespace wg::cli {

namespace {

using core::Json;
using core::Result;
using core::Status;

Result<std::unique_ptr<server::Installation>> Open(const std::string& data,
                                                   const core::Clock& clock) {
  return server::Installation::Open({.data_dir = data, .load_index = false}, clock);
}

// A stored presence document; the store only holds what the service validated, so a
// document that does not parse is corruption.
Result<Json> Document(const store::PresenceObjectRow& row) {
  auto j = core::ParseJson(row.document);
  if (!j.ok()) return Status::Corruption("stored " + row.kind + " '" + row.id + "' is not JSON");
  return j;
}

// Who each tag is bound to at `now` ("" when nobody).
Result<std::map<std::string, std::string>> BoundNow(store::Store& st, core::OrgId org,
                                                    core::Timestamp now) {
  WG_ASSIGN_OR_RETURN(auto rows, st.ListTagBindings(org, ""));
  std::map<std::string, std::string> out;
  for (const auto& b : rows) {
    if (b.valid_from <= now && (!b.valid_until || now < *b.valid_until)) out[b.tag] = b.person;
  }
  return out;
}

int RunTags(server::Installation& inst, core::OrgId org, const PresenceArgs& a,
            core::Timestamp now) {
  auto rows = inst.store().ListPresenceObjects(org, "tag");
  if (!rows) return Fail(rows.error());
  auto bound = BoundNow(inst.store(), org, now);
  if (!bound) return Fail(bound.error());
  for (const auto& r : *rows) {
    auto doc = Document(r);
    if (!doc) return Fail(doc.error());
    auto who = bound->find(r.id);
    const std::string person = who == bound->end() ? "" : who->second;
    if (a.json) {
      Json j = *doc;
      j["person"] = person.empty() ? Json() : Json(person);
      std::cout << core::DumpJson(j) << "\n";
    } else {
      std::cout << r.id << "\t" << r.site << "\t" << doc->value("kind", "") << "\t"
                << (doc->value("enabled", true) ? "enabled" : "disabled") << "\t"
                << (person.empty() ? "-" : person) << "\t" << doc->value("description", "")
                << "\n";
    }
  }
  return kExitOk;
}

int RunFences(server::Installation& inst, core::OrgId org, const PresenceArgs& a) {
  auto rows = inst.store().ListPresenceObjects(org, "fence");
  if (!rows) return Fail(rows.error());
  for (const auto& r : *rows) {
    auto doc = Document(r);
    if (!doc) return Fail(doc.error());
    if (a.json) {
      std::cout << core::DumpJson(*doc) << "\n";
      continue;
    }
    std::string flags;
    if (doc->value("hazardous", false)) flags += "hazardous";
    if (doc->value("restricted", false)) flags += flags.empty() ? "restricted" : ",restricted";
    std::size_t vertices = 0;
    if (doc->contains("area") && (*doc)["area"].contains("outer")) {
      vertices = (*doc)["area"]["outer"].size();
    }
    std::cout << r.id << "\t" << r.site << "\t" << doc->value("zone", "") << "\t"
              << (flags.empty() ? "-" : flags) << "\t" << vertices << " vertices\t"
              << doc->value("name", "") << "\n";
  }
  return kExitOk;
}

int RunPositions(server::Installation& inst, core::OrgId org, const PresenceArgs& a,
                 core::Timestamp now) {
  auto rows = inst.store().ListPresenceObjects(org, "tag");
  if (!rows) return Fail(rows.error());
  auto bound = BoundNow(inst.store(), org, now);
  if (!bound) return Fail(bound.error());
  std::map<std::string, std::optional<presence::LocalFrame>> frames;  // by site
  for (const auto& r : *rows) {
    if (!a.site.empty() && r.site != a.site) continue;
    auto blocks = inst.store().TrajectoryBlocks(org, r.id, now - core::Duration::Hours(24),
                                                now + core::Duration::Hours(1), 10000);
    if (!blocks) return Fail(blocks.error());
    if (blocks->empty()) continue;
    auto decoded = presence::DecodeTrajectory(blocks->back().data);
    if (!decoded) return Fail(decoded.error().WithContext("trajectory of tag " + r.id));
    if (decoded->points.empty()) continue;
    const presence::TrackPoint& last = decoded->points.back();
    if (!frames.contains(r.site)) {
      std::optional<presence::LocalFrame> frame;
      auto row = inst.store().GetPresenceObject(org, "site_frame", r.site);
      if (row) {
        auto doc = Document(*row);
        if (!doc) return Fail(doc.error());
        auto sf = presence::ParseSiteFrame(*doc);
        if (sf && sf->origin) frame.emplace(*sf->origin);
      }
      frames[r.site] = frame;
    }
    const auto& frame = frames[r.site];
    auto who = bound->find(r.id);
    const std::string person = who == bound->end() ? "" : who->second;
    std::optional<presence::LatLon> ll;
    if (frame) ll = frame->ToWgs84({last.position.x, last.position.y});
    if (a.json) {
      Json j = {{"tag", r.id},
                {"site", r.site},
                {"person", person.empty() ? Json() : Json(person)},
                {"time", core::FormatTimestamp(last.time)},
                {"x", last.position.x},
                {"y", last.position.y}};
      if (last.has_z) j["z"] = last.position.z;
      if (ll) {
        j["lat"] = ll->lat;
        j["lon"] = ll->lon;
      }
      std::cout << core::DumpJson(j) << "\n";
    } else {
      std::ostringstream line;
      line << std::fixed << std::setprecision(2) << r.id << "\t" << r.site << "\t"
           << (person.empty() ? "-" : person) << "\t" << core::FormatShanghai(last.time) << "\t"
           << last.position.x << "," << last.position.y;
      // 7 decimals of a degree: about a centimetre.
      if (ll) line << std::setprecision(7) << "\t" << ll->lat << "," << ll->lon;
      std::cout << line.str() << "\n";
    }
  }
  return kExitOk;
}

int RunRegister(server::Installation& inst, core::OrgId org, const PresenceArgs& a) {
  auto p = inst.permits().GetByNumber(org, a.permit);
  if (!p) return Fail(p.error());
  auto reg = inst.presence().Register(org, p->id);
  if (!reg) return Fail(reg.error());
  if (a.json) {
    std::cout << core::DumpJson(*reg, 2) << "\n";
    return kExitOk;
  }
  const Json& r = *reg;
  if (r.contains("entries")) {
    for (const auto& e : r["entries"]) {
      std::string tools;
      for (const auto& t : e.value("tools", Json::array())) {
        tools += (tools.empty() ? "" : ",") + t.get<std::string>();
      }
      std::cout << e.value("time", "") << "\t" << e.value("direction", "") << "\t"
                << e.value("person", "") << "\t" << e.value("name", "") << "\t"
                << e.value("source", "") << "\t" << (tools.empty() ? "-" : tools) << "\n";
    }
  }
  std::cout << "headcount: " << r.value("headcount", 0) << "\n";
  return kExitOk;
}

}  // namespace

void AddPresenceCommands(CLI::App& app, PresenceArgs& a) {
  auto* p = app.add_subcommand("presence", "People on site: tags, fences, positions, registers");
  p->require_subcommand(1);
  auto common = [&a](CLI::App* c) {
    c->add_option("--data", a.data, "Data directory")->required();
    c->add_option("--org", a.org, "Organization code");
    c->add_flag("--json", a.json, "One JSON document a line instead of a table");
  };
  a.tags = p->add_subcommand("tags", "List the tags and who each is bound to now");
  common(a.tags);
  a.fences = p->add_subcommand("fences", "List the zone fences");
  common(a.fences);
  a.positions = p->add_subcommand("positions", "Each tag's last sealed position");
  common(a.positions);
  a.positions->add_option("--site", a.site, "Only tags of this site");
  a.reg = p->add_subcommand("register", "A confined-space permit's entry/exit register");
  a.reg->add_option("permit", a.permit, "Permit number")->required();
  common(a.reg);
}

std::optional<int> RunPresenceCommands(const PresenceArgs& a) {
  const bool any = (a.tags != nullptr && a.tags->parsed()) ||
                   (a.fences != nullptr && a.fences->parsed()) ||
                   (a.positions != nullptr && a.positions->parsed()) ||
                   (a.reg != nullptr && a.reg->parsed());
  if (!any) return std::nullopt;
  core::SystemClock clock;
  auto inst = Open(a.data, clock);
  if (!inst) return Fail(inst.error());
  auto org = ResolveOrg(**inst, a.org);
  if (!org) return Fail(org.error());
  const core::Timestamp now = clock.Now();
  if (a.tags->parsed()) return RunTags(**inst, *org, a, now);
  if (a.fences->parsed()) return RunFences(**inst, *org, a);
  if (a.positions->parsed()) return RunPositions(**inst, *org, a, now);
  return RunRegister(**inst, *org, a);
}

}  // namespace wg::cli
