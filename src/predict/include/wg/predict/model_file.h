#pragma once
// Model files (docs/formats/predict-model.md): one JSON document,
//   {"format": "workguard-predict-model/1", "name": ..., "kind": "static"|"linear"|"holt"|
//    "kalman"|"gbt", "created": ISO 8601, "horizon_s": ..., "policy": {...},
//    "params": {...}, "training": {...}, "evaluation": {...}, "digest": "sm3:<64 hex>"}
// The digest is SM3 over the compact JSON of the document without "digest" (keys sorted).
// Loading refuses, with a message saying which: a file that is not JSON, another format
// or version ("workguard-predict-model/2": "model format ... is not supported by this
// version"), a digest mismatch ("corrupt"), unknown members, bad params.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "wg/core/json.h"
#include "wg/core/status.h"
#include "wg/predict/model.h"

namespace wg::predict {

inline constexpr std::string_view kModelFormat = "workguard-predict-model/1";

struct ModelInfo {
  std::string name;      // [A-Za-z0-9._-]{1,64}
  std::string kind;
  std::string created;   // ISO 8601 UTC
  std::string digest;    // "sm3:<hex>" (set by Serialize / checked by Parse)
  core::Json training = core::Json::object();
  core::Json evaluation = core::Json::object();
};

struct LoadedModel {
  std::unique_ptr<Predictor> predictor;
  ModelInfo info;
};

// Builds the document (and fills info.digest). `info.kind` is taken from the model.
core::Result<std::string> SerializeModel(const Predictor& m, ModelInfo& info);
core::Result<LoadedModel> ParseModel(std::string_view text);
// Atomic write (temp file + rename); refuses to overwrite unless `overwrite`.
core::Status SaveModel(const Predictor& m, ModelInfo& info, const std::filesystem::path& path,
                       bool overwrite = true);
core::Result<LoadedModel> LoadModel(const std::filesystem::path& path);

// A model by name or file: "static", "linear", "holt", "kalman" (default parameters),
// otherwise a path to a model file.
core::Result<LoadedModel> ResolveModel(std::string_view name_or_path);

}  // namespace wg::predict
