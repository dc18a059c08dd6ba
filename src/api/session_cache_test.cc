#include "session_cache.h"

#include <gtest/gtest.h>

namespace wg::api {
namespace {

TokenDigest DigestOf(std::uint8_t seed) {
  TokenDigest d{};
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(seed * 31 + i);
  return d;
}

Session MakeSession(std::int64_t user, core::Timestamp expires) {
  return Session{core::UserId{user}, core::OrgId{1}, domain::Role::kGuardian, expires};
}

constexpr core::Timestamp kStart = core::Timestamp{1'800'000'000'000'000};

TEST(SessionCacheTest, HitUntilExpiryThenMiss) {
  core::FakeClock clock(kStart);
  SessionCache cache(clock, {.capacity = 10, .revalidate_after = core::Duration::Hours(24)});
  cache.Put(DigestOf(1), MakeSession(7, kStart + core::Duration::Minutes(10)));

  auto hit = cache.Find(DigestOf(1));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->user_id.value, 7);

  clock.Advance(core::Duration{core::Duration::Minutes(10).micros - 1});
  EXPECT_TRUE(cache.Find(DigestOf(1)).has_value()) << "valid one microsecond before expiry";
  clock.Advance(core::Duration{1});
  EXPECT_FALSE(cache.Find(DigestOf(1)).has_value()) << "expired exactly at expires_at";
  EXPECT_EQ(cache.size(), 0u) << "an expired entry is dropped";
}

TEST(SessionCacheTest, StaleEntriesAreMissesSoTheCallerRevalidates) {
  core::FakeClock clock(kStart);
  SessionCache cache(clock, {.capacity = 10, .revalidate_after = core::Duration::Seconds(60)});
  cache.Put(DigestOf(1), MakeSession(7, kStart + core::Duration::Hours(12)));
  clock.Advance(core::Duration::Seconds(59));
  EXPECT_TRUE(cache.Find(DigestOf(1)).has_value());
  clock.Advance(core::Duration::Seconds(1));
  EXPECT_FALSE(cache.Find(DigestOf(1)).has_value());
}

TEST(SessionCacheTest, ClockMovedBackwardsForcesRevalidation) {
  core::FakeClock clock(kStart);
  SessionCache cache(clock, {});
  cache.Put(DigestOf(1), MakeSession(7, kStart + core::Duration::Hours(12)));
  clock.Set(kStart - core::Duration::Seconds(1));
  EXPECT_FALSE(cache.Find(DigestOf(1)).has_value());
}

TEST(SessionCacheTest, EraseRemoves) {
  core::FakeClock clock(kStart);
  SessionCache cache(clock, {});
  cache.Put(DigestOf(1), MakeSession(7, kStart + core::Duration::Hours(1)));
  cache.Put(DigestOf(2), MakeSession(8, kStart + core::Duration::Hours(1)));
  cache.Erase(DigestOf(1));
  EXPECT_FALSE(cache.Find(DigestOf(1)).has_value());
  EXPECT_TRUE(cache.Find(DigestOf(2)).has_value());
}

TEST(SessionCacheTest, BoundedSizePrefersEvictingExpiredEntries) {
  core::FakeClock clock(kStart);
  SessionCache cache(clock, {.capacity = 3, .revalidate_after = core::Duration::Hours(24)});
  cache.Put(DigestOf(1), MakeSession(1, kStart + core::Duration::Minutes(1)));
  cache.Put(DigestOf(2), MakeSession(2, kStart + core::Duration::Hours(1)));
  cache.Put(DigestOf(3), MakeSession(3, kStart + core::Duration::Hours(1)));
  clock.Advance(core::Duration::Minutes(2));  // session 1 has expired
  cache.Put(DigestOf(4), MakeSession(4, kStart + core::Duration::Hours(1)));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(cache.Find(DigestOf(2)).has_value());
  EXPECT_TRUE(cache.Find(DigestOf(3)).has_value());
  EXPECT_TRUE(cache.Find(DigestOf(4)).has_value());

  // All live: one arbitrary entry makes room; the size never exceeds the capacity.
  cache.Put(DigestOf(5), MakeSession(5, kStart + core::Duration::Hours(1)));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(cache.Find(DigestOf(5)).has_value());
}

TEST(SessionCacheTest, PutReplacesAndRefreshes) {
  core::FakeClock clock(kStart);
  SessionCache cache(clock, {.capacity = 1, .revalidate_after = core::Duration::Seconds(60)});
  cache.Put(DigestOf(1), MakeSession(1, kStart + core::Duration::Hours(1)));
  clock.Advance(core::Duration::Seconds(50));
  cache.Put(DigestOf(1), MakeSession(1, kStart + core::Duration::Hours(1)));
  clock.Advance(core::Duration::Seconds(50));
  EXPECT_TRUE(cache.Find(DigestOf(1)).has_value()) << "re-validated 50 s ago";
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace wg::api
