// Early-warning routes (docs/api.md#early-warning): the latest forecast of every monitoring
// point of the caller's organization (per point and per zone) and the model in use with
// its evaluation. Read-only: predicted alarms themselves are alarms (GET /api/v1/alarms,
// rule "predict.red_crossing"), acknowledged like any other.
#include <string>
#include <utility>

#include "service.h"
#include "wg/live/service.h"

namespace wg::api {

using core::Json;
using core::Result;
using core::Status;

namespace {

// A zone code (monitor points: at most 64 bytes, no control characters).
Status CheckZoneCode(std::string_view v) {
  bool ok = !v.empty() && v.size() <= 64;
  for (char ch : v) ok = ok && static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f;
  if (!ok) return Status::InvalidArgument("must be 1 to 64 bytes without control characters", "zone");
  return Status::Ok();
}

}  // namespace

// ?site= (optional) narrows to one site, ?zone= (optional) to one zone of it.
Result<Reply> ApiService::PredictForecasts(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {"site", "zone"}));
  std::string site, zone;
  if (const std::string* v = Query(c.http, "site")) {
    WG_RETURN_IF_ERROR(CheckCode(*v, "site"));
    site = *v;
  }
  if (const std::string* v = Query(c.http, "zone")) {
    WG_RETURN_IF_ERROR(CheckZoneCode(*v));
    zone = *v;
  }
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  WG_ASSIGN_OR_RETURN(Json out, svc->Forecasts(c.session->org_id, site));
  if (!zone.empty()) {
    for (const char* list : {"points", "zones"}) {
      Json kept = Json::array();
      for (auto& p : out[list]) {
        if (p["zone"] == zone) kept.push_back(std::move(p));
      }
      out[list] = std::move(kept);
    }
  }
  return Reply::Json(200, out);
}

Result<Reply> ApiService::PredictModel(const Call& c) {
  WG_RETURN_IF_ERROR(CheckQuery(c.http, {}));
  WG_ASSIGN_OR_RETURN(live::MonitorService * svc, Monitor());
  return Reply::Json(200, {{"model", svc->PredictorInfo()}});
}

}  // namespace wg::api
