#include "session_cache.h"

#include <mutex>

namespace wg::api {

SessionCache::SessionCache(const core::Clock& clock, Options options)
    : clock_(clock), options_(options) {}

bool SessionCache::Live(const Entry& e, core::Timestamp now) const {
  return now < e.session.expires_at && now < e.validated_at + options_.revalidate_after &&
         now >= e.validated_at;  // a clock set backwards also forces re-validation
}

std::optional<Session> SessionCache::Find(const TokenDigest& digest) {
  const core::Timestamp now = clock_.Now();
  {
    std::shared_lock lock(mu_);
    auto it = entries_.find(digest);
    if (it == entries_.end()) return std::nullopt;
    if (Live(it->second, now)) return it->second.session;
  }
  std::unique_lock lock(mu_);
  auto it = entries_.find(digest);
  if (it != entries_.end() && !Live(it->second, now)) entries_.erase(it);
  return std::nullopt;
}

void SessionCache::Put(const TokenDigest& digest, const Session& session) {
  const core::Timestamp now = clock_.Now();
  std::unique_lock lock(mu_);
  if (entries_.size() >= options_.capacity && !entries_.contains(digest)) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = Live(it->second, now) ? std::next(it) : entries_.erase(it);
    }
    while (entries_.size() >= options_.capacity && !entries_.empty()) {
      entries_.erase(entries_.begin());
    }
  }
  if (options_.capacity == 0) return;
  entries_.insert_or_assign(digest, Entry{session, now});
}

void SessionCache::Erase(const TokenDigest& digest) {
  std::unique_lock lock(mu_);
  entries_.erase(digest);
}

std::size_t SessionCache::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

}  // namespace wg::api
