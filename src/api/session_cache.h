#pragma once
// SessionCache: bearer-token sessions held in memory so that authenticated hot routes
// (verify) do not query the store.
//
// Keys are SHA-256 digests of tokens (the token itself is never kept). Each hit
// re-checks the token's expiry against the injected Clock, and an entry older than
// `revalidate_after` is treated as a miss so the caller re-reads the token and user
// from the store: a token deleted or a user deactivated by another process (the CLI)
// stops working within that interval. The cache is bounded: when full, expired entries
// are swept and, if it is still full, arbitrary entries are evicted (they are
// re-validated from the store on their next use, so eviction costs only a query).
//
// Thread-safe; lookups take a shared lock.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

#include "wg/core/clock.h"
#include "wg/core/ids.h"
#include "wg/core/time.h"
#include "wg/domain/types.h"

namespace wg::api {

using TokenDigest = std::array<std::uint8_t, 32>;

struct Session {
  core::UserId user_id;
  core::OrgId org_id;
  domain::Role role = domain::Role::kWorker;
  core::Timestamp expires_at;
  std::string username;  // names the actor of the caller's facts
};

class SessionCache {
 public:
  struct Options {
    std::size_t capacity = 100'000;
    core::Duration revalidate_after = core::Duration::Seconds(60);
  };

  SessionCache(const core::Clock& clock, Options options);

  // The live session for `digest`, or nullopt when absent, expired or due for
  // re-validation (expired and stale entries are dropped).
  std::optional<Session> Find(const TokenDigest& digest);
  void Put(const TokenDigest& digest, const Session& session);
  void Erase(const TokenDigest& digest);
  std::size_t size() const;

 private:
  struct Entry {
    Session session;
    core::Timestamp validated_at;
  };
  // The key is already uniformly random (a SHA-256 output): its first bytes are a hash.
  struct DigestHash {
    std::size_t operator()(const TokenDigest& d) const noexcept {
      std::size_t h = 0;
      std::memcpy(&h, d.data(), sizeof h);
      return h;
    }
  };
  bool Live(const Entry& e, core::Timestamp now) const;

  const core::Clock& clock_;
  const Options options_;
  mutable std::shared_mutex mu_;
  std::unordered_map<TokenDigest, Entry, DigestHash> entries_;
};

}  // namespace wg::api
