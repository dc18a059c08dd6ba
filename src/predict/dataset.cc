// STUB (being written): scenario dataset parsing and writing.
#include "wg/predict/dataset.h"

namespace wg::predict {
namespace {
core::Status Todo() { return core::Status::Internal("dataset: not yet"); }
}  // namespace
std::size_t Dataset::readings() const { return 0; }
std::size_t Dataset::events() const { return 0; }
core::Result<Scenario> ParseScenarioCsv(std::string_view, std::string_view, const LoadLimits&) { return Todo(); }
core::Result<double> ParseTs(std::string_view) { return Todo(); }
core::Result<Labels> ParseLabels(std::string_view) { return Todo(); }
core::Result<ThresholdTable> ParseThresholds(std::string_view) { return Todo(); }
core::Result<Dataset> LoadDataset(const std::filesystem::path&, const ThresholdSource&, const LoadLimits&) { return Todo(); }
core::Status WriteDataset(const Dataset&, const std::filesystem::path&) { return Todo(); }
core::Result<Dataset> ImportTep(const std::filesystem::path&, std::string_view) { return Todo(); }
core::Result<NabSeries> ImportNab(const std::filesystem::path&, std::string_view) { return Todo(); }
}  // namespace wg::predict
