// STUB (being written): model files.
#include "wg/predict/model_file.h"

namespace wg::predict {
core::Result<std::string> SerializeModel(const Predictor&, ModelInfo&) { return core::Status::Internal("model file: not yet"); }
core::Result<LoadedModel> ParseModel(std::string_view) { return core::Status::Internal("model file: not yet"); }
core::Status SaveModel(const Predictor&, ModelInfo&, const std::filesystem::path&, bool) { return core::Status::Internal("model file: not yet"); }
core::Result<LoadedModel> LoadModel(const std::filesystem::path&) { return core::Status::Internal("model file: not yet"); }
core::Result<LoadedModel> ResolveModel(std::string_view) { return core::Status::Internal("model file: not yet"); }
}  // namespace wg::predict
