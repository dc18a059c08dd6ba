#pragma once
// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78; RFC 3720 §B.4), the
// checksum of every record in entries.dat. Uses the SSE4.2 crc32 instruction when the CPU
// has it (checked once at run time) and a slicing-by-8 table otherwise. Internal to
// wg_ledger; thread-safe.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wg::ledger::internal {

// CRC-32C of `data` continuing from `crc` (the value returned for the preceding bytes;
// 0 to start), so Crc32c(ab) == Crc32cExtend(Crc32c(a), b).
std::uint32_t Crc32cExtend(std::uint32_t crc, const void* data, std::size_t n);
inline std::uint32_t Crc32c(std::string_view data) {
  return Crc32cExtend(0, data.data(), data.size());
}

// The two implementations, for tests and benchmarks.
bool Crc32cHardwareAvailable();
std::uint32_t Crc32cPortable(std::uint32_t crc, const void* data, std::size_t n);
// Only when Crc32cHardwareAvailable().
std::uint32_t Crc32cHardware(std::uint32_t crc, const void* data, std::size_t n);

}  // namespace wg::ledger::internal
