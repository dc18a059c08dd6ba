#pragma once
// Authenticator: password login, bearer tokens and sessions (docs/api.md#authentication).
//
// A token is 32 random bytes, sent as 64 lowercase hex characters in
// "Authorization: Bearer <token>". The store keeps only SHA-256(token) in hex with the
// user, organization and expiry (now + ttl on the injected Clock); the SessionCache
// answers repeated requests without touching the store. Every failure to authenticate
// is kUnauthenticated with a message that does not tell an unknown user from a wrong
// password or an unknown token from an expired one.
//
// Password checks are argon2id (about 19 MiB and tens of milliseconds each), so at most
// kMaxConcurrentLogins run at once; further logins wait briefly, then get kUnavailable.
//
// Thread-safe. The Store and Clock must outlive the Authenticator.

#include <atomic>
#include <mutex>
#include <semaphore>
#include <string>
#include <string_view>

#include "session_cache.h"
#include "wg/core/clock.h"
#include "wg/core/status.h"
#include "wg/domain/types.h"
#include "wg/store/store.h"

namespace wg::api {

struct LoginResult {
  std::string token;
  core::Timestamp expires_at;
  domain::User user;
};

class Authenticator {
 public:
  static constexpr std::ptrdiff_t kMaxConcurrentLogins = 4;

  Authenticator(store::Store& store, const core::Clock& clock, core::Duration token_ttl,
                SessionCache::Options cache_options = {});

  // Checks the value of an Authorization header and returns the caller's session.
  core::Result<Session> Authenticate(std::string_view authorization);

  core::Result<LoginResult> Login(std::string_view username, std::string_view password);

  // Ends the session of the token in `authorization` (cache and store).
  core::Status Logout(std::string_view authorization);

  std::size_t cached_sessions() const { return cache_.size(); }

 private:
  // The token of a "Bearer <64 hex>" header value, or kUnauthenticated.
  static core::Result<std::string_view> BearerToken(std::string_view authorization);
  core::Status CheckPassword(const core::Result<domain::User>& user, std::string_view password);
  void MaybeSweepExpiredTokens(core::Timestamp now);

  store::Store& store_;
  const core::Clock& clock_;
  const core::Duration token_ttl_;
  SessionCache cache_;
  std::counting_semaphore<kMaxConcurrentLogins> login_slots_{kMaxConcurrentLogins};

  // Hash checked when the username is unknown, so both failures take the same time.
  std::once_flag dummy_hash_once_;
  std::string dummy_hash_;

  std::atomic<std::int64_t> last_sweep_micros_{0};
};

}  // namespace wg::api
