#pragma once
// Private helpers shared by the crypto sources: a deleter adaptor so every OpenSSL object
// lives in a unique_ptr with its own free function, and a reader for the OpenSSL error
// queue so a failed call reports why. Not part of the public interface.

#include <string>

namespace wg::crypto {

// unique_ptr deleter that calls `Free` (EVP_MD_free, EVP_MAC_CTX_free, ...).
template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};

// The oldest queued OpenSSL error as text, clearing the queue; a placeholder when the
// queue is empty.
std::string LastOpenSslError();

}  // namespace wg::crypto
