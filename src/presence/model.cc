#include "wg/presence/model.h"

namespace wg::presence {}  // namespace wg::presence
