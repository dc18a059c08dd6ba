#include "wg/presence/rulebook.h"

namespace wg::presence {}  // namespace wg::presence
