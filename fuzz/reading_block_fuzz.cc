// libFuzzer target: the WGRB1 reading-block decoder (wg::monitor::DecodeBlock) never
// crashes on any bytes, and the encoding is canonical (docs/formats/reading-block.md: "one
// block of samples has exactly one encoding"): a block it accepts is re-encoded by
// EncodeBlock to exactly the input bytes, and decoding that gives bit-identical samples.
// The trailing CRC-32C would stop the fuzzer at the checksum almost always, so each input
// is decoded twice: as given (the checksum path), and with its last 4 bytes replaced by
// the CRC-32C of the bytes before them (the parser behind the checksum).
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wg/monitor/blocks.h"

namespace {

void Check(std::string_view in) {
  auto block = wg::monitor::DecodeBlock(in);
  if (!block) return;
  if (block->point.size() > 255) std::abort();
  const std::string again = wg::monitor::EncodeBlock(block->point, block->samples);
  if (again != in) std::abort();
  auto back = wg::monitor::DecodeBlock(again);
  if (!back || back->point != block->point || back->samples.size() != block->samples.size()) {
    std::abort();
  }
  for (std::size_t i = 0; i < back->samples.size(); ++i) {
    const auto& a = back->samples[i];
    const auto& b = block->samples[i];
    if (a.time.micros != b.time.micros ||
        std::bit_cast<std::uint64_t>(a.value) != std::bit_cast<std::uint64_t>(b.value)) {
      std::abort();
    }
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
