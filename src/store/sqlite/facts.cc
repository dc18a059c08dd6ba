#include "facts.h"

#include "wg/core/strings.h"

namespace wg::store {

namespace {

bool IsKindChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

Status CheckText(const std::string& value, std::size_t min, std::size_t max,
                 const std::string& field) {
  if (value.size() < min || value.size() > max) {
    return Status::InvalidArgument("must be " + std::to_string(min) + ".." + std::to_string(max) +
                                       " bytes, got " + std::to_string(value.size()),
                                   field);
  }
  if (!core::IsValidUtf8(value)) return Status::InvalidArgument("is not valid UTF-8", field);
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return Status::InvalidArgument("contains a control character", field);
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateFactDraft(const FactDraft& f, std::size_t i) {
  const std::string p = "facts[" + std::to_string(i) + "].";
  if (f.kind.empty() || f.kind.size() > 64) {
    return Status::InvalidArgument("must be 1..64 characters", p + "kind");
  }
  for (char c : f.kind) {
    if (!IsKindChar(c)) return Status::InvalidArgument("must match [a-z0-9_.]+", p + "kind");
  }
  WG_RETURN_IF_ERROR(CheckText(f.actor, 1, 128, p + "actor"));
  WG_RETURN_IF_ERROR(CheckText(f.subject, 1, 256, p + "subject"));
  WG_RETURN_IF_ERROR(CheckText(f.site, 0, 64, p + "site"));
  if (f.payload.size() > (1u << 20)) {
    return Status::InvalidArgument("is over 1 MiB", p + "payload");
  }
  if (!core::IsValidUtf8(f.payload)) return Status::InvalidArgument("is not valid UTF-8", p + "payload");
  return Status::Ok();
}

namespace sqlite {

Status InsertFacts(Connection& conn, core::OrgId org, const FactDrafts& facts,
                   core::Timestamp now) {
  if (facts.empty()) return Status::Ok();
  return InsertFactsAt(conn, org, facts, now).status();
}

Result<std::int64_t> InsertFactsAt(Connection& conn, core::OrgId org, const FactDrafts& facts,
                                   core::Timestamp now) {
  for (std::size_t i = 0; i < facts.size(); ++i) WG_RETURN_IF_ERROR(ValidateFactDraft(facts[i], i));
  std::int64_t seq = 0;
  {
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn.Prepare("SELECT coalesce(max(seq) + 1, 0) FROM facts WHERE org_id = ?1"));
    st.BindInt(1, org.value);
    WG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Internal("max(seq) returned no row");
    seq = st.ColumnInt(0);
  }
  const std::int64_t first = seq;
  if (facts.empty()) return first;
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("INSERT INTO facts (org_id, seq, time, site, kind, actor, "
                                   "subject, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  for (const FactDraft& f : facts) {
    st.Reset();
    st.BindInt(1, org.value);
    st.BindInt(2, seq++);
    st.BindTime(3, now);
    st.BindText(4, f.site);
    st.BindText(5, f.kind);
    st.BindText(6, f.actor);
    st.BindText(7, f.subject);
    st.BindText(8, f.payload);
    Status s = st.StepDone();
    if (!s.ok()) {
      if (st.last_error() == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return Status::InvalidArgument(
            "organization " + std::to_string(org.value) + " does not exist", "org_id");
      }
      return s;
    }
  }
  return first;
}

Result<StoredFact> ReadFact(const Statement& st) {
  StoredFact f;
  f.org_id = core::OrgId{st.ColumnInt(0)};
  f.seq = st.ColumnInt(1);
  f.time = core::Timestamp{st.ColumnInt(2)};
  f.site = st.ColumnText(3);
  f.kind = st.ColumnText(4);
  f.actor = st.ColumnText(5);
  f.subject = st.ColumnText(6);
  f.payload = st.ColumnText(7);
  return f;
}

}  // namespace sqlite
}  // namespace wg::store
