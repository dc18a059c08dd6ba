#include "rows.h"

#include <limits>
#include <optional>
#include <utility>

namespace wg::store::sqlite {
namespace {

// Reads the columns of one row, remembering the first value that does not map back.
class RowReader {
 public:
  RowReader(const Statement& st, std::string_view table) : st_(st), table_(table) {}

  std::int64_t Int(int col) const { return st_.ColumnInt(col); }
  std::string Text(int col) const { return st_.ColumnText(col); }
  core::Timestamp Time(int col) const { return core::Timestamp{st_.ColumnInt(col)}; }

  bool Bool(int col, std::string_view column) {
    const std::int64_t v = st_.ColumnInt(col);
    if (v != 0 && v != 1) Fail(column, "boolean is " + std::to_string(v) + ", want 0 or 1");
    return v == 1;
  }

  int Int32(int col, std::string_view column) {
    const std::int64_t v = st_.ColumnInt(col);
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
      Fail(column, "value " + std::to_string(v) + " out of range");
      return 0;
    }
    return static_cast<int>(v);
  }

  core::Date Date(int col, std::string_view column) {
    return core::Date{static_cast<std::int32_t>(Int32(col, column))};
  }

  std::optional<core::Date> OptionalDate(int col, std::string_view column) {
    if (st_.IsNull(col)) return std::nullopt;
    return Date(col, column);
  }

  template <typename E>
  E Enum(int col, std::string_view column,
         core::Result<E> (*parse)(std::string_view, std::string_view)) {
    const std::string text = st_.ColumnText(col);
    core::Result<E> r = parse(text, column);
    if (!r.has_value()) {
      Fail(column, r.error().message());
      return E{};
    }
    return *r;
  }

  Status status() const { return status_; }

 private:
  void Fail(std::string_view column, const std::string& what) {
    if (!status_.ok()) return;
    // Column 0 is the row's key in every list (id, or token_digest for tokens).
    status_ = Status::Corruption("corrupt row in " + std::string(table_) + " (id " +
                                 st_.ColumnText(0) + "): column " + std::string(column) +
                                 ": " + what);
  }

  const Statement& st_;
  std::string_view table_;
  Status status_;
};

}  // namespace

Result<domain::Organization> ReadOrganization(const Statement& st) {
  RowReader r(st, "organizations");
  domain::Organization o;
  o.id = core::OrgId{r.Int(0)};
  o.code = r.Text(1);
  o.name = r.Text(2);
  o.created_at = r.Time(3);
  WG_RETURN_IF_ERROR(r.status());
  return o;
}

Result<domain::Site> ReadSite(const Statement& st) {
  RowReader r(st, "sites");
  domain::Site s;
  s.id = core::SiteId{r.Int(0)};
  s.org_id = core::OrgId{r.Int(1)};
  s.code = r.Text(2);
  s.name = r.Text(3);
  s.address = r.Text(4);
  s.created_at = r.Time(5);
  WG_RETURN_IF_ERROR(r.status());
  return s;
}

Result<domain::User> ReadUser(const Statement& st) {
  RowReader r(st, "users");
  domain::User u;
  u.id = core::UserId{r.Int(0)};
  u.org_id = core::OrgId{r.Int(1)};
  u.username = r.Text(2);
  u.display_name = r.Text(3);
  u.role = r.Enum(4, "role", &domain::ParseRole);
  u.password_hash = r.Text(5);
  u.active = r.Bool(6, "active");
  u.created_at = r.Time(7);
  WG_RETURN_IF_ERROR(r.status());
  return u;
}

Result<TokenRecord> ReadToken(const Statement& st) {
  RowReader r(st, "tokens");
  TokenRecord t;
  t.token_digest = r.Text(0);
  t.user_id = core::UserId{r.Int(1)};
  t.org_id = core::OrgId{r.Int(2)};
  t.issued_at = r.Time(3);
  t.expires_at = r.Time(4);
  WG_RETURN_IF_ERROR(r.status());
  return t;
}

Result<domain::Worker> ReadWorker(const Statement& st) {
  RowReader r(st, "workers");
  domain::Worker w;
  w.id = core::WorkerId{r.Int(0)};
  w.org_id = core::OrgId{r.Int(1)};
  w.code = r.Text(2);
  w.name = r.Text(3);
  w.employer = r.Text(4);
  w.id_salt = r.Text(5);
  w.id_digest = r.Text(6);
  w.id_last4 = r.Text(7);
  w.phone = r.Text(8);
  w.photo_ref = r.Text(9);
  w.status = r.Enum(10, "status", &domain::ParseWorkerStatus);
  w.created_at = r.Time(11);
  w.updated_at = r.Time(12);
  w.id_lookup = r.Text(14);  // NULL (rows from before migration 2) reads as ""
  WG_RETURN_IF_ERROR(r.status());
  return w;
}

Result<domain::Certificate> ReadCertificate(const Statement& st) {
  RowReader r(st, "certificates");
  domain::Certificate c;
  c.id = core::CertificateId{r.Int(0)};
  c.org_id = core::OrgId{r.Int(1)};
  c.worker_id = core::WorkerId{r.Int(2)};
  c.kind = r.Enum(3, "kind", &domain::ParseCertKind);
  c.category = r.Text(4);
  c.item = r.Text(5);
  c.number = r.Text(6);
  c.authority = r.Text(7);
  c.issue_date = r.Date(8, "issue_date");
  c.expiry_date = r.Date(9, "expiry_date");
  c.last_review_date = r.OptionalDate(10, "last_review_date");
  c.practice_since = r.OptionalDate(11, "practice_since");
  c.review_extension_granted = r.Bool(12, "review_extension_granted");
  c.violations = r.Int32(13, "violations");
  c.status = r.Enum(14, "status", &domain::ParseCertStatus);
  c.status_reason = r.Text(15);
  c.created_at = r.Time(16);
  c.updated_at = r.Time(17);
  WG_RETURN_IF_ERROR(r.status());
  return c;
}

Result<PermitRow> ReadPermit(const Statement& st) {
  RowReader r(st, "permits");
  PermitRow p;
  p.id = r.Int(0);
  p.org_id = core::OrgId{r.Int(1)};
  p.number = r.Text(2);
  p.site = r.Text(3);
  p.type = r.Text(4);
  p.grade = r.Text(5);
  p.state = r.Text(6);
  p.planned_start = r.Time(7);
  p.planned_end = r.Time(8);
  p.version = r.Int(9);
  p.document = r.Text(10);
  p.created_at = r.Time(11);
  p.updated_at = r.Time(12);
  WG_RETURN_IF_ERROR(r.status());
  return p;
}

Result<UserKeyRow> ReadUserKey(const Statement& st) {
  RowReader r(st, "user_keys");
  UserKeyRow k;
  k.user_id = core::UserId{r.Int(0)};
  k.org_id = core::OrgId{r.Int(1)};
  k.version = r.Int32(2, "version");
  k.public_pem = r.Text(3);
  k.sealed_private = st.ColumnBlob(4);
  k.created_at = r.Time(5);
  WG_RETURN_IF_ERROR(r.status());
  return k;
}

void BindWorkerInsert(Statement& st, const domain::Worker& w, core::OrgId org,
                      core::Timestamp created_at, core::Timestamp updated_at,
                      std::int64_t rev) {
  st.BindInt(1, org.value);
  st.BindText(2, w.code);
  st.BindText(3, w.name);
  st.BindText(4, w.employer);
  st.BindText(5, w.id_salt);
  st.BindText(6, w.id_digest);
  st.BindText(7, w.id_last4);
  st.BindText(8, w.phone);
  st.BindText(9, w.photo_ref);
  st.BindText(10, domain::WorkerStatusName(w.status));
  st.BindTime(11, created_at);
  st.BindTime(12, updated_at);
  st.BindInt(13, rev);
  st.BindTextOrNull(14, w.id_lookup);
}

void BindCertificateInsert(Statement& st, const domain::Certificate& c, core::OrgId org,
                           core::WorkerId worker, core::Timestamp created_at,
                           core::Timestamp updated_at, std::int64_t rev, int offset) {
  st.BindInt(offset + 1, org.value);
  st.BindInt(offset + 2, worker.value);
  st.BindText(offset + 3, domain::CertKindName(c.kind));
  st.BindText(offset + 4, c.category);
  st.BindText(offset + 5, c.item);
  st.BindText(offset + 6, c.number);
  st.BindText(offset + 7, c.authority);
  st.BindDate(offset + 8, c.issue_date);
  st.BindDate(offset + 9, c.expiry_date);
  st.BindOptionalDate(offset + 10, c.last_review_date);
  st.BindOptionalDate(offset + 11, c.practice_since);
  st.BindBool(offset + 12, c.review_extension_granted);
  st.BindInt(offset + 13, c.violations);
  st.BindText(offset + 14, domain::CertStatusName(c.status));
  st.BindText(offset + 15, c.status_reason);
  st.BindTime(offset + 16, created_at);
  st.BindTime(offset + 17, updated_at);
  st.BindInt(offset + 18, rev);
}

std::string Quote(std::string_view s) {
  constexpr std::size_t kMax = 64;
  std::string out = "'";
  if (s.size() <= kMax) {
    out += s;
    out += '\'';
    return out;
  }
  std::size_t cut = kMax;
  // Back off UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  out += s.substr(0, cut);
  out += "...'";
  return out;
}

}  // namespace wg::store::sqlite
