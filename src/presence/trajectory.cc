#include "wg/presence/trajectory.h"

namespace wg::presence {}  // namespace wg::presence
