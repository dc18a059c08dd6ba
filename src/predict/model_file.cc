// Model files (docs/formats/predict-model.md): one JSON document with an SM3 digest over
// its canonical form, so a damaged or hand-edited file is refused rather than half-used.
//
// The canonical form is the compact dump of the document without "digest": nlohmann's
// default json keeps object keys sorted, so parsing and dumping any rendering of the same
// document (indented, reordered keys) gives the same bytes.

#include "wg/predict/model_file.h"

#include <cmath>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "wg/core/file.h"
#include "wg/core/strings.h"
#include "wg/core/time.h"
#include "wg/crypto/crypto.h"

namespace wg::predict {
namespace {

using core::Json;
using core::Result;
using core::Status;

constexpr std::size_t kMaxModelBytes = 64u << 20;
constexpr double kMaxHorizonS = 7 * 86400.0;

bool ValidName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Digest(const Json& doc_without_digest) {
  return "sm3:" + core::ToHex(crypto::Sm3(core::DumpJson(doc_without_digest)));
}

Status CheckName(std::string_view name) {
  if (!ValidName(name)) {
    return Status::InvalidArgument(
        "must be 1 to 64 characters of A-Z a-z 0-9 . _ - (got '" + std::string(name) + "')",
        "name");
  }
  return Status::Ok();
}

Status CheckCreated(std::string_view created) {
  if (created.empty()) return Status::InvalidArgument("is required", "created");
  auto t = core::ParseTimestamp(created, "created");
  if (!t) return t.error();
  return Status::Ok();
}

Result<std::string> RequireString(const Json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end()) return Status::InvalidArgument("is required", key);
  if (!it->is_string()) return Status::InvalidArgument("expected a string", key);
  return it->get<std::string>();
}

Result<Json> OptionalObject(const Json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end()) return Json::object();
  if (!it->is_object()) return Status::InvalidArgument("expected an object", key);
  return *it;
}

}  // namespace

Result<std::string> SerializeModel(const Predictor& m, ModelInfo& info) {
  info.kind = std::string(m.kind());
  WG_RETURN_IF_ERROR(CheckName(info.name));
  WG_RETURN_IF_ERROR(CheckCreated(info.created));
  if (!info.training.is_object()) return Status::InvalidArgument("expected an object", "training");
  if (!info.evaluation.is_object()) {
    return Status::InvalidArgument("expected an object", "evaluation");
  }
  const double h = m.horizon_s();
  if (!std::isfinite(h) || h <= 0 || h > kMaxHorizonS) {
    return Status::InvalidArgument("must be in (0, 604800]", "horizon_s");
  }
  Json doc = Json::object();
  doc["format"] = kModelFormat;
  doc["name"] = info.name;
  doc["kind"] = info.kind;
  doc["created"] = info.created;
  doc["horizon_s"] = h;
  doc["policy"] = ToJson(m.policy());
  doc["params"] = m.Params();
  doc["training"] = info.training;
  doc["evaluation"] = info.evaluation;
  info.digest = Digest(doc);
  doc["digest"] = info.digest;
  return core::DumpJson(doc, 2) + "\n";
}

Result<LoadedModel> ParseModel(std::string_view text) {
  if (text.size() > kMaxModelBytes) {
    return Status::ResourceExhausted("model file is larger than " +
                                     std::to_string(kMaxModelBytes >> 20) + " MiB");
  }
  auto parsed = core::ParseJson(text, core::JsonLimits{kMaxModelBytes, 64}, "model");
  if (!parsed) return parsed.error().WithContext("model file is not valid JSON");
  Json doc = std::move(*parsed);
  if (!doc.is_object()) return Status::InvalidArgument("model file: expected a JSON object");

  // The format first: a later version may differ in every other respect.
  auto fit = doc.find("format");
  if (fit == doc.end()) {
    return Status::InvalidArgument("model file has no 'format' member (expected " +
                                       std::string(kModelFormat) + ")",
                                   "format");
  }
  if (!fit->is_string() || fit->get<std::string>() != kModelFormat) {
    const std::string got = fit->is_string() ? fit->get<std::string>() : core::DumpJson(*fit);
    return Status::InvalidArgument("model format '" + got +
                                       "' is not supported by this version (expected " +
                                       std::string(kModelFormat) + ")",
                                   "format");
  }

  // Then integrity: a damaged file says so, whatever the damage looks like.
  auto dit = doc.find("digest");
  if (dit == doc.end()) return Status::InvalidArgument("is required", "digest");
  if (!dit->is_string()) return Status::InvalidArgument("expected a string", "digest");
  const std::string digest = dit->get<std::string>();
  doc.erase("digest");
  const std::string want = Digest(doc);
  if (digest != want) {
    return Status::Corruption("model file is corrupt: digest mismatch (file says " + digest +
                              ", content hashes to " + want + ")");
  }

  WG_RETURN_IF_ERROR(core::RejectUnknownMembers(doc, {"format", "name", "kind", "created",
                                                      "horizon_s", "policy", "params",
                                                      "training", "evaluation"}));
  LoadedModel out;
  out.info.digest = digest;
  WG_ASSIGN_OR_RETURN(out.info.name, RequireString(doc, "name"));
  WG_RETURN_IF_ERROR(CheckName(out.info.name));
  WG_ASSIGN_OR_RETURN(out.info.kind, RequireString(doc, "kind"));
  WG_ASSIGN_OR_RETURN(out.info.created, RequireString(doc, "created"));
  WG_RETURN_IF_ERROR(CheckCreated(out.info.created));

  auto hit = doc.find("horizon_s");
  if (hit == doc.end()) return Status::InvalidArgument("is required", "horizon_s");
  if (!hit->is_number()) return Status::InvalidArgument("expected a number", "horizon_s");
  const double horizon = hit->get<double>();
  if (!std::isfinite(horizon) || horizon <= 0 || horizon > kMaxHorizonS) {
    return Status::InvalidArgument("must be in (0, 604800], got " + core::DumpJson(*hit),
                                   "horizon_s");
  }

  auto pit = doc.find("policy");
  if (pit == doc.end()) return Status::InvalidArgument("is required", "policy");
  auto policy = ParseWarningPolicy(*pit);
  if (!policy) return policy.error();

  auto mit = doc.find("params");
  if (mit == doc.end()) return Status::InvalidArgument("is required", "params");
  auto model = MakeByKind(out.info.kind, *mit);
  if (!model) return model.error();

  WG_ASSIGN_OR_RETURN(out.info.training, OptionalObject(doc, "training"));
  WG_ASSIGN_OR_RETURN(out.info.evaluation, OptionalObject(doc, "evaluation"));

  out.predictor = std::move(*model);
  out.predictor->set_horizon_s(horizon);
  out.predictor->set_policy(*policy);
  return out;
}

Status SaveModel(const Predictor& m, ModelInfo& info, const std::filesystem::path& path,
                 bool overwrite) {
  WG_ASSIGN_OR_RETURN(std::string text, SerializeModel(m, info));
  if (overwrite) {
    Status s = core::WriteFileAtomic(path.string(), text);
    if (!s.ok()) return s.WithContext("saving model " + path.string());
    return Status::Ok();
  }
  // No overwrite: write a complete temp file, then hard-link it into place (link fails
  // when the name exists, so there is no window in which another file could be replaced).
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return Status::AlreadyExists("model file " + path.string() + " already exists", "path");
  }
  auto rnd = crypto::RandomHex(8);
  if (!rnd) return rnd.error();
  const std::filesystem::path tmp = path.string() + ".tmp-" + *rnd;
  Status s = core::WriteFileAtomic(tmp.string(), text);
  if (!s.ok()) return s.WithContext("saving model " + path.string());
  std::filesystem::create_hard_link(tmp, path, ec);
  std::error_code ignored;
  std::filesystem::remove(tmp, ignored);
  if (ec) {
    if (ec == std::errc::file_exists) {
      return Status::AlreadyExists("model file " + path.string() + " already exists", "path");
    }
    return Status::IoError("saving model " + path.string() + ": " + ec.message());
  }
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  return core::SyncDir(dir.string());
}

Result<LoadedModel> LoadModel(const std::filesystem::path& path) {
  auto text = core::ReadFile(path.string(), kMaxModelBytes);
  if (!text) {
    if (text.error().code() == core::StatusCode::kResourceExhausted) {
      return Status::ResourceExhausted("model file " + path.string() + " is larger than " +
                                       std::to_string(kMaxModelBytes >> 20) + " MiB");
    }
    return text.error().WithContext("model file");
  }
  auto m = ParseModel(*text);
  if (!m) return m.error().WithContext(path.string());
  return m;
}

Result<LoadedModel> ResolveModel(std::string_view name_or_path) {
  if (name_or_path == "static" || name_or_path == "linear" || name_or_path == "holt" ||
      name_or_path == "kalman") {
    auto m = MakeByKind(name_or_path, Json::object());
    if (!m) return m.error();
    LoadedModel out;
    out.predictor = std::move(*m);
    out.info.name = std::string(name_or_path);
    out.info.kind = std::string(name_or_path);
    return out;
  }
  if (name_or_path == "gbt") {
    return Status::InvalidArgument(
        "the gbt model has no defaults: give the path of a trained model file", "model");
  }
  if (name_or_path.empty()) return Status::InvalidArgument("is required", "model");
  return LoadModel(std::filesystem::path(std::string(name_or_path)));
}

}  // namespace wg::predict
