// libFuzzer target: signed-note and checkpoint parsing never crash, and whatever parses
// formats back to text that parses to the same note (round trip).
#include <cstdint>
#include <cstdlib>

#include "wg/ledger/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto note = wg::ledger::ParseNote(text);
  if (note) {
    auto again = wg::ledger::ParseNote(wg::ledger::FormatNote(*note));
    if (!again || again->text != note->text || again->signatures.size() != note->signatures.size()) {
      std::abort();
    }
    (void)wg::ledger::ParseCheckpointBody(note->text);
  }
  auto cp = wg::ledger::ParseCheckpointBody(text);
  if (cp) {
    auto back = wg::ledger::ParseCheckpointBody(wg::ledger::CheckpointBody(*cp));
    if (!back || back->size != cp->size || back->root != cp->root) std::abort();
  }
  (void)wg::ledger::NoteKey::FromVerifierKey(text);
  return 0;
}
