#pragma once
// JSON renderers for the API's resources. They decide what leaves the server: a user
// is rendered without its password hash, a worker without its ID salt and digest (only
// the last four characters of the ID). Dates are "YYYY-MM-DD", instants RFC 3339 UTC.

#include "wg/core/json.h"
#include "wg/core/time.h"
#include "wg/domain/types.h"
#include "wg/registry/registry.h"
#include "wg/registry/rulebook.h"

namespace wg::api {

core::Json OrganizationJson(const domain::Organization& org);
core::Json SiteJson(const domain::Site& site);
core::Json UserJson(const domain::User& user);
core::Json WorkerJson(const domain::Worker& worker);
// The certificate with its standing on `today` (Asia/Shanghai date) under `book`.
core::Json CertificateJson(const domain::Certificate& cert, const registry::Rulebook& book,
                           core::Date today);
core::Json QrCheckJson(const registry::QrCheck& check);
// The catalog, rule sets and revocation reasons, each with its clause references.
core::Json CatalogJson(const registry::Rulebook& book);
core::Json OperationsJson(const registry::Rulebook& book);

}  // namespace wg::api
