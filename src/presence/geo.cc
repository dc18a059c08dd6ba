#include "wg/presence/geo.h"

namespace wg::presence {}  // namespace wg::presence
