// STUB (being written): evaluation.
#include "wg/predict/eval.h"

namespace wg::predict {
core::Json ToJson(const EvalRow&) { return core::Json::object(); }
EvalRow Evaluate(const std::string& name, const Predictor&, const Dataset&, const ScoreOptions&) { EvalRow r; r.model = name; return r; }
NabRow EvaluateNab(const std::string& name, const Predictor&, const NabSeries&, double) { NabRow r; r.model = name; return r; }
core::Json ToJson(const NabRow&) { return core::Json::object(); }
core::Json SeedFigures() { return core::Json::object(); }
}  // namespace wg::predict
