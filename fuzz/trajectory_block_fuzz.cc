// libFuzzer target: the WGTB1 trajectory-block decoder (wg::presence::DecodeTrajectory)
// never crashes on any bytes, and the encoding is canonical
// (docs/formats/trajectory-block.md: one block of points has exactly one encoding): a
// block it accepts is re-encoded by EncodeTrajectory to exactly the input bytes, and
// decoding that gives the same points. As in reading_block_fuzz, each input is decoded
// twice: as given (the checksum path), and with its last 4 bytes replaced by the CRC-32C
// of the bytes before them (the parser behind the checksum).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wg/monitor/blocks.h"
#include "wg/presence/trajectory.h"

namespace {

void Check(std::string_view in) {
  auto block = wg::presence::DecodeTrajectory(in);
  if (!block) return;
  if (block->tag.size() > 255) std::abort();
  const std::string again = wg::presence::EncodeTrajectory(block->tag, block->points);
  if (again != in) std::abort();
  auto back = wg::presence::DecodeTrajectory(again);
  if (!back || back->tag != block->tag || back->points != block->points) std::abort();
  for (std::size_t i = 1; i < back->points.size(); ++i) {
    if (back->points[i].time < back->points[i - 1].time) std::abort();  // sorted
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Check(in);
  if (size >= 4) {
    std::string fixed(in.substr(0, size - 4));
    const std::uint32_t crc = wg::monitor::BlockCrc32c(fixed);
    for (int i = 0; i < 4; ++i) fixed.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
    Check(fixed);
  }
  return 0;
}
