#pragma once
// Typed identifiers. Every stored entity has a 64-bit integer id assigned by the store;
// the tag type keeps a WorkerId from being passed where a CertificateId is expected.
// Ids are positive; 0 means "none".

#include <cstdint>
#include <functional>
#include <string>

namespace wg::core {

template <typename Tag>
struct Id {
  std::int64_t value = 0;
  constexpr bool valid() const { return value > 0; }
  auto operator<=>(const Id&) const = default;
};

struct OrgTag {};
struct SiteTag {};
struct UserTag {};
struct WorkerTag {};
struct CertificateTag {};

using OrgId = Id<OrgTag>;
using SiteId = Id<SiteTag>;
using UserId = Id<UserTag>;
using WorkerId = Id<WorkerTag>;
using CertificateId = Id<CertificateTag>;

}  // namespace wg::core

template <typename Tag>
struct std::hash<wg::core::Id<Tag>> {
  std::size_t operator()(const wg::core::Id<Tag>& id) const noexcept {
    return std::hash<std::int64_t>{}(id.value);
  }
};
