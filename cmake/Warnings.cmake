# wg_warnings: an INTERFACE target carrying the project's warning flags; every library,
# app, test and benchmark links it.
add_library(wg_warnings INTERFACE)
target_compile_options(wg_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wnon-virtual-dtor
  -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2
  # Designated initializers that rely on member defaults are idiomatic here.
  -Wno-missing-field-initializers)
if(WG_WERROR)
  target_compile_options(wg_warnings INTERFACE -Werror)
endif()
