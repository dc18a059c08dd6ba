#pragma once
// Files compiled into wg_api by wg_embed_files (cmake/Embed.cmake): openapi.json.

#include <string_view>

namespace wg::api::embedded {

// The bytes of an embedded file by its base name; empty when there is none.
std::string_view EmbeddedFile(std::string_view name);

}  // namespace wg::api::embedded
