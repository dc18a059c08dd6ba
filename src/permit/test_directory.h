#pragma once
// FakeDirectory: an in-memory permit::Directory for tests (check, lifecycle, service).
// Workers, users, SM2 signing keys and other permits are plain maps the test fills;
// nothing is shared between instances. Signatures use the documented format
// (model.h Signature): `digest` is hex SM3 of the permit's canonical content and
// `signature` base64url without padding (RFC 4648 §5) of the raw 64-byte r||s SM2
// signature over the 32 digest bytes (ContentDigestAt the signing time), with the default
// distinguishing ID.
//
// Not thread-safe for writers; const methods may run concurrently once filled.
//
// CheckWorld (below) builds on it: the embedded rulebook, a directory with one signer per
// signature-chain step, and a compliant permit of each type to mutate in a test.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "wg/core/strings.h"
#include "wg/core/time.h"
#include "wg/crypto/sm.h"
#include "wg/permit/check.h"
#include "wg/permit/model.h"
#include "wg/permit/rulebook.h"

namespace wg::permit::testing {


// A registered worker: which registry operations they may do, until when.
struct FakeWorker {
  std::string name;
  // operation -> certificate number; empty map: every operation.
  std::map<std::string, std::string, std::less<>> certificates;
  core::Timestamp valid_until = core::Timestamp::FromSeconds(4102444800);  // 2100-01-01
  bool active = true;
};

class FakeDirectory : public Directory {
 public:
  std::map<std::string, FakeWorker, std::less<>> workers;
  std::map<std::string, UserFacts, std::less<>> users;
  std::map<std::string, PermitBrief, std::less<>> permits;
  std::map<std::string, crypto::Sm2PublicKey, std::less<>> keys;  // by key_id

  WorkerCheck VerifyWorker(std::string_view worker_code, std::string_view operation,
                           core::Timestamp at) const override {
    WorkerCheck out;
    auto it = workers.find(worker_code);
    if (it == workers.end()) {
      out.verdict = "unknown_worker";
      out.detail = "worker " + std::string(worker_code) + " is not registered";
      return out;
    }
    const FakeWorker& w = it->second;
    out.found = true;
    out.name = w.name;
    if (!w.active) {
      out.verdict = "worker_inactive";
      out.detail = "worker is inactive";
      return out;
    }
    std::string cert = "CERT-" + std::string(worker_code);
    if (!w.certificates.empty()) {
      auto c = w.certificates.find(operation);
      if (c == w.certificates.end()) {
        out.verdict = "wrong_category";
        out.rule = "operations." + std::string(operation);
        out.clause = "安监总局令第30号 第五条";
        out.detail = "no certificate for " + std::string(operation);
        return out;
      }
      cert = c->second;
    }
    out.certificate_number = cert;
    if (at >= w.valid_until) {
      out.verdict = "expired";
      out.rule = "order30.validity";
      out.clause = "安监总局令第30号 第十九条";
      out.detail = "expired on " + core::FormatDate(core::ShanghaiDate(w.valid_until));
      return out;
    }
    out.may_work = true;
    out.verdict = "valid";
    return out;
  }

  std::optional<UserFacts> FindUser(std::string_view username) const override {
    auto it = users.find(username);
    if (it == users.end()) return std::nullopt;
    return it->second;
  }

  bool VerifySignature(const Signature& sig, std::string_view digest) const override {
    auto key = keys.find(sig.key_id);
    if (key == keys.end()) return false;
    auto raw = core::Base64UrlDecode(sig.signature, "signature");
    if (!raw.ok() || raw->size() != 64) return false;
    auto der = crypto::Sm2SignatureFromRaw(*raw);
    if (!der) return false;
    return key->second.Verify(digest, *der).ok();
  }

  std::optional<PermitBrief> FindPermit(std::string_view number) const override {
    auto it = permits.find(number);
    if (it == permits.end()) return std::nullopt;
    return it->second;
  }

  // Registers `p` as another permit the checker can find.
  void AddPermit(const PermitBrief& p) { permits[p.number] = p; }
};

// Signs the permit's current content as `username` in chain step `role` with `key`, and
// appends the signature (key id "<username>/k1").
inline core::Status SignAs(Permit& p, std::string role, std::string username,
                           const crypto::Sm2PrivateKey& key, core::Timestamp at,
                           std::optional<Point> position = std::nullopt) {
  const std::string digest = ContentDigestAt(p, at);
  auto der = key.Sign(digest);
  if (!der) return der.error();
  auto raw = crypto::Sm2SignatureToRaw(*der);
  if (!raw) return raw.error();
  Signature s;
  s.role = std::move(role);
  s.username = username;
  s.signed_at = at;
  s.key_id = username + "/k1";
  s.digest = core::ToHex(digest);
  s.signature = core::Base64UrlEncode(*raw);
  s.position = position;
  p.signatures.push_back(std::move(s));
  return core::Status::Ok();
}

// A small world for checker tests. Time: Monday 2026-11-30 10:00 Shanghai (a working day,
// daytime). Site "S1"; the work fence is the square ±20 m around the origin.
class CheckWorld {
 public:
  static core::Timestamp At() { return core::Timestamp::FromSeconds(1796004000); }

  CheckWorld() {
    auto book = PermitRulebook::LoadEmbedded();
    if (book) book_.emplace(std::move(*book));
    load_status_ = book.error();
    workers_defaults();
  }
  const core::Status& load_status() const { return load_status_; }
  const PermitRulebook& book() const { return *book_; }
  FakeDirectory& dir() { return dir_; }

  // The user signing chain step `role` (the approval step: "appr.zhou").
  static std::string SignerFor(std::string_view role) {
    if (role == "guardian") return "g.li";
    if (role == "approver") return "appr.zhou";
    return "s." + std::string(role);
  }

  // A compliant permit of type `t`, unsigned; window At() .. At() + 8 h.
  Permit Make(PermitType t) {
    Permit p;
    p.number = std::string(book().type(t).prefix) + "-20261130-0001";
    p.org = "org1";
    p.site = "S1";
    p.type = t;
    p.title = "检修作业";
    p.work_unit = "维修车间";
    p.owning_unit = "一联合装置";
    p.hazard_analysis = "JHA-2026-001";
    p.location.zone = "U1";
    p.location.description = "T-101 塔底";
    p.location.point = {0, 0};
    p.location.fence = {{-20, -20}, {20, -20}, {20, 20}, {-20, 20}};
    p.location.area_class = "general";
    p.location.outdoor = true;
    p.planned_start = At();
    p.planned_end = At() + core::Duration::Hours(8);
    p.measures.push_back({"m1", "已开展作业危害分析", true, "g.li", At()});
    p.people = {
        {"performer", "W1", "", "张三", {"CERT-W1"}},
        {"guardian", "", "g.li", "李四", {}},
        {"work_leader", "W3", "lead.wang", "王五", {}},
        {"safety_briefer", "", "brief.zhao", "赵六", {}},
        {"briefing_recipient", "W1", "", "张三", {}},
        {"gas_analyst", "", "gas.chen", "陈七", {}},
    };
    switch (t) {
      case PermitType::kHotWork:
        p.grade = "grade2";
        p.hot_work.emplace();
        p.hot_work->method = "welding";
        p.hot_work->oxygen_acetylene_distance_m = 6;
        p.hot_work->cylinder_to_point_distance_m = 12;
        p.hot_work->welder_machine_distance_m = 5;
        break;
      case PermitType::kConfinedSpace:
        p.confined_space.emplace();
        p.confined_space->space_name = "T-101";
        p.confined_space->original_medium = "苯";
        p.confined_space->isolation = {"blind_plate"};
        p.confined_space->ventilation = "forced";
        p.confined_space->lighting_voltage_v = 24;
        break;
      case PermitType::kBlindPlate:
        p.blind_plate.emplace();
        p.blind_plate->pipeline = "P-101";
        p.blind_plate->medium = "氮气";
        p.blind_plate->plates = {{"BP-01", "insert", "碳钢", "DN200"}};
        p.blind_plate->diagram_ref = "vault:bp-diagram";
        p.people.push_back({"commander", "W2", "cmd.liu", "刘八", {}});
        break;
      case PermitType::kHeight:
        p.grade = "II";
        p.height.emplace();
        p.height->height_m = 6;
        p.height->grade = "II";
        p.location.elevation_m = 6;
        break;
      case PermitType::kLifting:
        p.grade = "grade2";
        p.lifting.emplace();
        p.lifting->mass_t = 50;
        p.lifting->grade = "grade2";
        p.lifting->plan_ref = "vault:lift-plan";
        p.people.push_back({"commander", "W2", "cmd.liu", "刘八", {}});
        break;
      case PermitType::kTemporaryPower:
        p.temporary_power.emplace();
        p.temporary_power->voltage = "380V";
        p.temporary_power->access_point = "MCC-1";
        p.temporary_power->supply_unit = "电气车间";
        break;
      case PermitType::kExcavation:
        p.excavation.emplace();
        p.excavation->depth_m = 1.0;
        p.excavation->sketch_ref = "vault:sketch";
        p.excavation->cosigned_departments = {"water",     "power", "steam", "process",
                                              "equipment", "fire",  "safety"};
        break;
      case PermitType::kRoadBreaking:
        p.road_breaking.emplace();
        p.road_breaking->road = "1号路";
        p.road_breaking->traffic_plan_ref = "vault:traffic";
        p.road_breaking->fire_lane_kept = true;
        p.road_breaking->cosigned_departments = {"fire", "safety"};
        break;
    }
    return p;
  }

  // Signs every step of the type's chain in order (one minute apart, ending before At()),
  // the approver on site at (1, 1). `skip` names steps to leave unsigned.
  core::Status SignAll(Permit& p, std::initializer_list<std::string_view> skip = {}) {
    p.signatures.clear();
    const auto& chain = book().type(p.type).signature_chain;
    core::Timestamp t = At() - core::Duration::Minutes(30);
    for (const auto& step : chain) {
      bool skipped = false;
      for (auto s : skip) skipped = skipped || s == step.role;
      if (skipped) continue;
      const std::string user = SignerFor(step.role);
      EnsureUser(user, step.user_roles.empty() ? std::string("worker") : step.user_roles[0]);
      std::optional<Point> pos;
      if (step.approval) pos = Point{1, 1};
      auto st = SignAs(p, step.role, user, Key(user), t, pos);
      if (!st.ok()) return st;
      t = t + core::Duration::Minutes(1);
    }
    return core::Status::Ok();
  }

  // The user's signing key (created and registered on first use).
  const crypto::Sm2PrivateKey& Key(const std::string& username) {
    auto it = private_keys_.find(username);
    if (it == private_keys_.end()) {
      auto k = crypto::Sm2PrivateKey::Generate();
      it = private_keys_.emplace(username, std::move(*k)).first;
      dir_.keys.insert_or_assign(username + "/k1", it->second.PublicKey());
    }
    return it->second;
  }

  UserFacts& EnsureUser(const std::string& username, const std::string& role) {
    auto it = dir_.users.find(username);
    if (it != dir_.users.end()) return it->second;
    UserFacts u;
    u.username = username;
    u.display_name = username;
    u.role = role;
    u.has_signing_key = true;
    return dir_.users.emplace(username, std::move(u)).first->second;
  }

  CheckOptions Options(Stage stage, bool with_directory = true) const {
    CheckOptions o;
    o.at = At();
    o.stage = stage;
    o.directory = with_directory ? &dir_ : nullptr;
    return o;
  }

  Decision Run(const Permit& p, Stage stage, bool with_directory = true) const {
    return Check(book(), p, Options(stage, with_directory));
  }

  // Violations of rules from permit_rules_general.json (the rules these tests own).
  std::vector<Violation> General(const Decision& d) const {
    std::vector<Violation> out;
    for (const auto& v : d.violations) {
      const Rule* r = book().FindRule(v.rule);
      if (r != nullptr && r->file.find("permit_rules_general") != std::string::npos) {
        out.push_back(v);
      }
    }
    return out;
  }

 private:
  void workers_defaults() {
    dir_.workers["W1"] = {"张三", {}, core::Timestamp::FromSeconds(4102444800), true};
    dir_.workers["W2"] = {"刘八", {}, core::Timestamp::FromSeconds(4102444800), true};
    dir_.workers["W3"] = {"王五", {}, core::Timestamp::FromSeconds(4102444800), true};
    EnsureUser("g.li", "guardian");
    EnsureUser("lead.wang", "team_leader");
    EnsureUser("brief.zhao", "safety_manager");
    UserFacts& a = EnsureUser("appr.zhou", "approver");
    a.approvals = 50;
    AuthorityScope top;
    top.level = "leader_in_charge";
    a.scopes.push_back(top);
  }

  std::optional<PermitRulebook> book_;
  core::Status load_status_;
  FakeDirectory dir_;
  std::map<std::string, crypto::Sm2PrivateKey, std::less<>> private_keys_;
};

}  // namespace wg::permit::testing
