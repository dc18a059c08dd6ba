#pragma once
// Whole-file helpers with the durability the evidence and key files need: reads with a
// size limit, and writes that are atomic (temp file, fsync, rename, fsync of the
// directory) so a crash leaves either the old or the new content, never half of it.

#include <cstddef>
#include <string>
#include <string_view>

#include "wg/core/status.h"

namespace wg::core {

// kNotFound when absent; kResourceExhausted when larger than max_bytes.
Result<std::string> ReadFile(const std::string& path, std::size_t max_bytes = 64u << 20);
// Atomically replaces `path` with `data` (file mode `mode`).
Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode = 0644);
// Creates `path` with `data` only when it does not exist (O_EXCL), fsynced; kAlreadyExists
// otherwise.
Status CreateFileExclusive(const std::string& path, std::string_view data, unsigned mode = 0600);
// Appends `data` and fdatasyncs.
Status AppendFileSync(const std::string& path, std::string_view data, unsigned mode = 0644);
// fsync of a directory (after creating/renaming entries in it).
Status SyncDir(const std::string& dir);

}  // namespace wg::core
