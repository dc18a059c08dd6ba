#include "wg/presence/engine.h"

namespace wg::presence {}  // namespace wg::presence
