#include "auth.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"

namespace wg::api {

namespace {

constexpr std::string_view kBadCredentials = "invalid username or password";
constexpr std::string_view kBadToken = "the bearer token is unknown or expired";
constexpr std::size_t kTokenBytes = 32;
constexpr core::Duration kSweepInterval = core::Duration::Hours(1);

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

Authenticator::Authenticator(store::Store& store, const core::Clock& clock,
                             core::Duration token_ttl, SessionCache::Options cache_options)
    : store_(store), clock_(clock), token_ttl_(token_ttl), cache_(clock, cache_options) {}

core::Result<std::string_view> Authenticator::BearerToken(std::string_view authorization) {
  if (authorization.empty()) {
    return core::Status::Unauthenticated("missing Authorization: Bearer <token> header");
  }
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return core::Status::Unauthenticated("the Authorization header is not a Bearer token");
  }
  std::string_view token = core::Trim(authorization.substr(kScheme.size()));
  if (token.size() != 2 * kTokenBytes || !IsLowerHex(token)) {
    return core::Status::Unauthenticated("malformed bearer token");
  }
  return token;
}

core::Result<Session> Authenticator::Authenticate(std::string_view authorization) {
  WG_ASSIGN_OR_RETURN(std::string_view token, BearerToken(authorization));
  const TokenDigest digest = crypto::Sha256(token);
  if (std::optional<Session> hit = cache_.Find(digest)) return *hit;

  const std::string digest_hex = core::ToHex(digest);
  auto record = store_.FindToken(digest_hex);
  if (!record.has_value()) {
    if (record.error().code() == core::StatusCode::kNotFound) {
      return core::Status::Unauthenticated(std::string(kBadToken));
    }
    return record.error();
  }
  const core::Timestamp now = clock_.Now();
  if (now >= record->expires_at) {
    if (core::Status s = store_.DeleteToken(digest_hex); !s.ok()) {
      spdlog::warn("api: could not delete an expired token: {}", s.ToString());
    }
    return core::Status::Unauthenticated(std::string(kBadToken));
  }
  auto user = store_.GetUser(record->org_id, record->user_id);
  if (!user.has_value()) {
    if (user.error().code() == core::StatusCode::kNotFound) {
      return core::Status::Unauthenticated(std::string(kBadToken));
    }
    return user.error();
  }
  if (!user->active) return core::Status::Unauthenticated("the account is disabled");
  Session session{user->id, user->org_id, user->role, record->expires_at, user->username};
  cache_.Put(digest, session);
  return session;
}

core::Status Authenticator::CheckPassword(const core::Result<domain::User>& user,
                                          std::string_view password) {
  if (!user.has_value()) {
    // Spend the same effort as for a real user so timing does not reveal usernames.
    std::call_once(dummy_hash_once_, [this] {
      auto h = crypto::HashPassword("workguard-dummy-password");
      if (h.has_value()) dummy_hash_ = std::move(h).value();
    });
    if (!dummy_hash_.empty()) (void)crypto::VerifyPassword(password, dummy_hash_);
    return core::Status::Unauthenticated(std::string(kBadCredentials));
  }
  core::Status s = crypto::VerifyPassword(password, user->password_hash);
  if (s.ok()) return s;
  if (s.code() == core::StatusCode::kUnauthenticated) {
    return core::Status::Unauthenticated(std::string(kBadCredentials));
  }
  spdlog::error("api: password check failed for user id {}: {}", user->id.value, s.ToString());
  return core::Status::Internal("password check failed");
}

core::Result<LoginResult> Authenticator::Login(std::string_view username,
                                               std::string_view password) {
  if (!login_slots_.try_acquire_for(std::chrono::seconds(5))) {
    return core::Status::Unavailable("too many logins in progress; retry shortly");
  }
  struct Release {
    std::counting_semaphore<kMaxConcurrentLogins>& s;
    ~Release() { s.release(); }
  } release{login_slots_};

  auto user = store_.FindUserByUsername(std::string(username));
  if (!user.has_value() && user.error().code() != core::StatusCode::kNotFound) {
    return user.error();
  }
  WG_RETURN_IF_ERROR(CheckPassword(user, password));
  if (!user->active) return core::Status::Unauthenticated(std::string(kBadCredentials));

  WG_ASSIGN_OR_RETURN(std::string token, crypto::RandomHex(kTokenBytes));
  const core::Timestamp now = clock_.Now();
  const TokenDigest digest = crypto::Sha256(token);
  store::TokenRecord record{core::ToHex(digest), user->id, user->org_id, now, now + token_ttl_};
  WG_RETURN_IF_ERROR(store_.SaveToken(record));
  cache_.Put(digest, Session{user->id, user->org_id, user->role, record.expires_at, user->username});
  MaybeSweepExpiredTokens(now);
  return LoginResult{std::move(token), record.expires_at, std::move(user).value()};
}

core::Status Authenticator::Logout(std::string_view authorization) {
  WG_ASSIGN_OR_RETURN(std::string_view token, BearerToken(authorization));
  const TokenDigest digest = crypto::Sha256(token);
  cache_.Erase(digest);
  core::Status s = store_.DeleteToken(core::ToHex(digest));
  if (s.code() == core::StatusCode::kNotFound) return core::Status::Ok();
  return s;
}

void Authenticator::MaybeSweepExpiredTokens(core::Timestamp now) {
  std::int64_t last = last_sweep_micros_.load();
  if (now.micros - last < kSweepInterval.micros) return;
  if (!last_sweep_micros_.compare_exchange_strong(last, now.micros)) return;
  auto deleted = store_.DeleteExpiredTokens(now);
  if (!deleted.has_value()) {
    spdlog::warn("api: sweeping expired tokens failed: {}", deleted.error().ToString());
  } else if (*deleted > 0) {
    spdlog::debug("api: swept {} expired tokens", *deleted);
  }
}

}  // namespace wg::api
