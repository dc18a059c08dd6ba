#include "presence.h"

#include <limits>
#include <utility>

#include "monitor.h"
#include "rows.h"
#include "wg/core/strings.h"

#define WG_STORE_PRESENCE_COLUMNS \
  "org_id, kind, id, site, document, version, deleted, updated_at"
#define WG_STORE_BINDING_COLUMNS \
  "id, org_id, tag, person, valid_from, valid_until, note, created_at"
#define WG_STORE_TRAJECTORY_COLUMNS \
  "org_id, tag, site, minute, part, first, last, count, data, sm3_hex, fact_seq"

namespace wg::store::sqlite {
namespace {

constexpr std::size_t kMaxCodeBytes = 64;
constexpr std::size_t kMaxPresenceDocumentBytes = 256 * 1024;
constexpr std::size_t kMaxSitePlanDocumentBytes = 1024 * 1024;
constexpr std::size_t kMaxPersonBytes = 80;
constexpr std::size_t kMaxNoteBytes = 256;
constexpr std::size_t kMaxBlockBytes = std::size_t{4} << 20;
constexpr std::int64_t kMinuteMicros = 60'000'000;

// min..max bytes of valid UTF-8; without control characters when `no_controls`.
Status CheckString(std::string_view value, std::size_t min, std::size_t max, bool no_controls,
                   const std::string& field) {
  if (value.size() < min || value.size() > max) {
    return Status::InvalidArgument("must be " + std::to_string(min) + ".." + std::to_string(max) +
                                       " bytes, got " + std::to_string(value.size()),
                                   field);
  }
  if (!core::IsValidUtf8(value)) return Status::InvalidArgument("is not valid UTF-8", field);
  if (no_controls) {
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return Status::InvalidArgument("contains a control character", field);
      }
    }
  }
  return Status::Ok();
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsPresenceKind(std::string_view kind) {
  return kind == "tag" || kind == "fence" || kind == "site_frame" || kind == "site_plan";
}

Status Corrupt(std::string_view table, const std::string& key, std::string_view column,
               const std::string& what) {
  return Status::Corruption("corrupt row in " + std::string(table) + " (id " + key +
                            "): column " + std::string(column) + ": " + what);
}

Result<PresenceObjectRow> ReadPresenceObject(const Statement& st) {
  PresenceObjectRow o;
  o.org_id = core::OrgId{st.ColumnInt(0)};
  o.kind = st.ColumnText(1);
  o.id = st.ColumnText(2);
  const std::string key = Quote(o.kind) + " " + Quote(o.id);
  if (!IsPresenceKind(o.kind)) {
    return Corrupt("presence_objects", key, "kind", "unknown kind " + Quote(o.kind));
  }
  o.site = st.ColumnText(3);
  o.document = st.ColumnText(4);
  o.version = st.ColumnInt(5);
  const std::int64_t deleted = st.ColumnInt(6);
  if (deleted != 0 && deleted != 1) {
    return Corrupt("presence_objects", key, "deleted",
                   "boolean is " + std::to_string(deleted) + ", want 0 or 1");
  }
  o.deleted = deleted == 1;
  o.updated_at = core::Timestamp{st.ColumnInt(7)};
  return o;
}

Result<TagBindingRow> ReadBinding(const Statement& st) {
  TagBindingRow b;
  b.id = st.ColumnInt(0);
  b.org_id = core::OrgId{st.ColumnInt(1)};
  b.tag = st.ColumnText(2);
  b.person = st.ColumnText(3);
  b.valid_from = core::Timestamp{st.ColumnInt(4)};
  if (!st.IsNull(5)) b.valid_until = core::Timestamp{st.ColumnInt(5)};
  b.note = st.ColumnText(6);
  b.created_at = core::Timestamp{st.ColumnInt(7)};
  return b;
}

Result<TrajectoryBlockRow> ReadTrajectoryBlock(const Statement& st) {
  TrajectoryBlockRow b;
  b.org_id = core::OrgId{st.ColumnInt(0)};
  b.tag = st.ColumnText(1);
  b.site = st.ColumnText(2);
  b.minute = core::Timestamp{st.ColumnInt(3)};
  const std::int64_t part = st.ColumnInt(4);
  if (part < 0 || part > std::numeric_limits<int>::max()) {
    return Corrupt("trajectory_blocks",
                   Quote(b.tag) + " minute " + std::to_string(b.minute.micros), "part",
                   "value " + std::to_string(part) + " out of range");
  }
  b.part = static_cast<int>(part);
  b.first = core::Timestamp{st.ColumnInt(5)};
  b.last = core::Timestamp{st.ColumnInt(6)};
  b.count = st.ColumnInt(7);
  b.data = st.ColumnBlob(8);
  b.sm3_hex = st.ColumnText(9);
  b.fact_seq = st.ColumnInt(10);
  return b;
}

std::string OrgMissing(core::OrgId org) {
  return "organization " + std::to_string(org.value) + " does not exist";
}

// A FOREIGN KEY failure of an insert is a missing organization.
Status ExplainOrg(const Statement& st, Status s, core::OrgId org) {
  if (st.last_error() == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return Status::InvalidArgument(OrgMissing(org), "org_id");
  }
  return s;
}

Result<bool> OrgExists(Connection& conn, core::OrgId org) {
  WG_ASSIGN_OR_RETURN(Statement st, conn.Prepare("SELECT 1 FROM organizations WHERE id = ?1"));
  st.BindInt(1, org.value);
  return st.Step();
}

std::string ObjectName(std::string_view kind, std::string_view id) {
  return std::string(kind) + " " + Quote(id);
}

}  // namespace

// ---- Checks.

Status CheckPresenceKind(std::string_view kind, const std::string& field) {
  if (!IsPresenceKind(kind)) {
    return Status::InvalidArgument(
        "must be \"tag\", \"fence\", \"site_frame\" or \"site_plan\", got " + Quote(kind),
        field);
  }
  return Status::Ok();
}

Status CheckPresenceObjectRow(const PresenceObjectRow& row) {
  WG_RETURN_IF_ERROR(CheckPresenceKind(row.kind, "kind"));
  WG_RETURN_IF_ERROR(CheckPointId(row.id, "id"));
  WG_RETURN_IF_ERROR(CheckString(row.site, 1, kMaxCodeBytes, /*no_controls=*/true, "site"));
  if ((row.kind == "site_frame" || row.kind == "site_plan") && row.id != row.site) {
    return Status::InvalidArgument("a site frame's or plan's id must be its site code " +
                                       Quote(row.site) + ", got " + Quote(row.id),
                                   "id");
  }
  // A site plan (schema version 7) may hold up to 20,000 point positions.
  return CheckString(row.document, 0,
                     row.kind == "site_plan" ? kMaxSitePlanDocumentBytes
                                             : kMaxPresenceDocumentBytes,
                     /*no_controls=*/false, "document");
}

Status CheckTagBindingRow(const TagBindingRow& row) {
  WG_RETURN_IF_ERROR(CheckPointId(row.tag, "tag"));
  WG_RETURN_IF_ERROR(CheckString(row.person, 1, kMaxPersonBytes, /*no_controls=*/true, "person"));
  std::string_view rest;
  if (row.person.starts_with("worker:")) {
    rest = std::string_view(row.person).substr(7);
  } else if (row.person.starts_with("user:")) {
    rest = std::string_view(row.person).substr(5);
  } else {
    return Status::InvalidArgument(
        "must be \"worker:<code>\" or \"user:<username>\", got " + Quote(row.person), "person");
  }
  if (rest.empty()) {
    return Status::InvalidArgument("names no worker or user, got " + Quote(row.person),
                                   "person");
  }
  if (row.valid_until.has_value() && *row.valid_until <= row.valid_from) {
    return Status::InvalidArgument("must be after valid_from", "valid_until");
  }
  return CheckString(row.note, 0, kMaxNoteBytes, /*no_controls=*/false, "note");
}

Status CheckTrajectoryBlocks(const std::vector<TrajectoryBlockRow>& blocks,
                             const std::vector<int>& fact_index, core::OrgId org,
                             std::size_t fact_count) {
  if (fact_index.size() != blocks.size()) {
    return Status::InvalidArgument("has " + std::to_string(fact_index.size()) +
                                       " entries for " + std::to_string(blocks.size()) +
                                       " blocks",
                                   "fact_index");
  }
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const TrajectoryBlockRow& b = blocks[i];
    const std::string p = "blocks[" + std::to_string(i) + "].";
    if (fact_index[i] < 0 || static_cast<std::size_t>(fact_index[i]) >= fact_count) {
      return Status::InvalidArgument("names fact " + std::to_string(fact_index[i]) + " of " +
                                         std::to_string(fact_count),
                                     "fact_index[" + std::to_string(i) + "]");
    }
    if (b.org_id != org) {
      return Status::InvalidArgument("is organization " + std::to_string(b.org_id.value) +
                                         ", the call is for " + std::to_string(org.value),
                                     p + "org_id");
    }
    WG_RETURN_IF_ERROR(CheckPointId(b.tag, p + "tag"));
    WG_RETURN_IF_ERROR(CheckString(b.site, 1, kMaxCodeBytes, /*no_controls=*/true, p + "site"));
    if (b.minute.micros % kMinuteMicros != 0) {
      return Status::InvalidArgument("must be a whole minute", p + "minute");
    }
    if (b.part < 0) return Status::InvalidArgument("must not be negative", p + "part");
    if (b.count < 1) return Status::InvalidArgument("must be at least 1", p + "count");
    if (b.first < b.minute || b.first > b.last) {
      return Status::InvalidArgument("must be in [minute, last]", p + "first");
    }
    if (b.last.micros - b.minute.micros >= kMinuteMicros) {
      return Status::InvalidArgument("must be within the block's minute", p + "last");
    }
    if (b.data.empty() || b.data.size() > kMaxBlockBytes) {
      return Status::InvalidArgument("must be 1.." + std::to_string(kMaxBlockBytes) +
                                         " bytes, got " + std::to_string(b.data.size()),
                                     p + "data");
    }
    if (b.sm3_hex.size() != 64 || !IsLowerHex(b.sm3_hex)) {
      return Status::InvalidArgument("must be 64 lowercase hex digits", p + "sm3_hex");
    }
  }
  return Status::Ok();
}

// ---- Presence objects.

Result<PresenceObjectRow> PutPresenceObject(Connection& conn, const PresenceObjectRow& row,
                                            std::int64_t expected_version, core::Timestamp now) {
  const std::string name = ObjectName(row.kind, row.id);
  bool found = false;
  bool deleted = false;
  std::int64_t stored = 0;
  {
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn.Prepare("SELECT version, deleted FROM presence_objects "
                                     "WHERE org_id = ?1 AND kind = ?2 AND id = ?3"));
    st.BindInt(1, row.org_id.value);
    st.BindText(2, row.kind);
    st.BindText(3, row.id);
    WG_ASSIGN_OR_RETURN(found, st.Step());
    if (found) {
      stored = st.ColumnInt(0);
      deleted = st.ColumnInt(1) != 0;
    }
  }
  if (expected_version == 0) {
    if (found && !deleted) return Status::AlreadyExists(name + " already exists", "id");
    if (!found) {
      WG_ASSIGN_OR_RETURN(Statement st,
                          conn.Prepare("INSERT INTO presence_objects (" WG_STORE_PRESENCE_COLUMNS
                                       ") VALUES (?1, ?2, ?3, ?4, ?5, 1, 0, ?6) "
                                       "RETURNING " WG_STORE_PRESENCE_COLUMNS));
      st.BindInt(1, row.org_id.value);
      st.BindText(2, row.kind);
      st.BindText(3, row.id);
      st.BindText(4, row.site);
      st.BindText(5, row.document);
      st.BindTime(6, now);
      auto r = ReadOne(st, &ReadPresenceObject, "insert returned no row");
      if (!r.has_value()) return ExplainOrg(st, r.error(), row.org_id);
      return r;
    }
    // A deleted object is revived; its version keeps counting.
  } else {
    if (!found || deleted) return Status::NotFound(name + " not found");
    if (stored != expected_version) {
      return Status::FailedPrecondition(name + " was changed meanwhile: stored version is " +
                                            std::to_string(stored) + ", expected " +
                                            std::to_string(expected_version),
                                        "version");
    }
  }
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("UPDATE presence_objects SET site = ?1, document = ?2, "
                                   "version = ?3, deleted = 0, updated_at = ?4 "
                                   "WHERE org_id = ?5 AND kind = ?6 AND id = ?7 AND "
                                   "version = ?8 RETURNING " WG_STORE_PRESENCE_COLUMNS));
  st.BindText(1, row.site);
  st.BindText(2, row.document);
  st.BindInt(3, stored + 1);
  st.BindTime(4, now);
  st.BindInt(5, row.org_id.value);
  st.BindText(6, row.kind);
  st.BindText(7, row.id);
  st.BindInt(8, stored);
  return ReadOne(st, &ReadPresenceObject, name + " not found");
}

Status DeletePresenceObject(Connection& conn, core::OrgId org, const std::string& kind,
                            const std::string& id, core::Timestamp now) {
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("UPDATE presence_objects SET deleted = 1, "
                                   "version = version + 1, updated_at = ?1 WHERE org_id = ?2 "
                                   "AND kind = ?3 AND id = ?4 AND deleted = 0"));
  st.BindTime(1, now);
  st.BindInt(2, org.value);
  st.BindText(3, kind);
  st.BindText(4, id);
  WG_RETURN_IF_ERROR(st.StepDone());
  if (conn.Changes() == 0) return Status::NotFound(ObjectName(kind, id) + " not found");
  return Status::Ok();
}

Result<PresenceObjectRow> GetPresenceObject(Connection& conn, core::OrgId org,
                                            const std::string& kind, const std::string& id) {
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("SELECT " WG_STORE_PRESENCE_COLUMNS
                                   " FROM presence_objects WHERE org_id = ?1 AND kind = ?2 "
                                   "AND id = ?3"));
  st.BindInt(1, org.value);
  st.BindText(2, kind);
  st.BindText(3, id);
  return ReadOne(st, &ReadPresenceObject, ObjectName(kind, id) + " not found");
}

Result<std::vector<PresenceObjectRow>> ListPresenceObjects(Connection& conn, core::OrgId org,
                                                           const std::string& kind) {
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("SELECT " WG_STORE_PRESENCE_COLUMNS
                                   " FROM presence_objects WHERE org_id = ?1 AND kind = ?2 "
                                   "AND deleted = 0 ORDER BY id"));
  st.BindInt(1, org.value);
  st.BindText(2, kind);
  return ReadAll(st, &ReadPresenceObject);
}

Status ScanPresenceObjects(Connection& conn,
                           const std::function<bool(const PresenceObjectRow&)>& on_row) {
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("SELECT " WG_STORE_PRESENCE_COLUMNS
                                   " FROM presence_objects WHERE deleted = 0 "
                                   "ORDER BY org_id, kind, id"));
  while (true) {
    WG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    WG_ASSIGN_OR_RETURN(PresenceObjectRow o, ReadPresenceObject(st));
    if (!on_row(o)) return Status::Ok();
  }
}

// ---- Tag bindings.

Result<TagBindingRow> AddTagBinding(Connection& conn, const TagBindingRow& row,
                                    core::Timestamp now) {
  {
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn.Prepare("SELECT 1 FROM presence_objects WHERE org_id = ?1 AND "
                                     "kind = 'tag' AND id = ?2 AND deleted = 0"));
    st.BindInt(1, row.org_id.value);
    st.BindText(2, row.tag);
    WG_ASSIGN_OR_RETURN(bool live, st.Step());
    if (!live) {
      WG_ASSIGN_OR_RETURN(bool org_exists, OrgExists(conn, row.org_id));
      if (!org_exists) return Status::InvalidArgument(OrgMissing(row.org_id), "org_id");
      return Status::InvalidArgument("tag " + Quote(row.tag) + " does not exist", "tag");
    }
  }
  {
    // [valid_from, valid_until) windows, an open one reaching to the end of time: two
    // overlap when each starts before the other ends.
    WG_ASSIGN_OR_RETURN(
        Statement st,
        row.valid_until.has_value()
            ? conn.Prepare("SELECT id FROM tag_bindings WHERE org_id = ?1 AND tag = ?2 AND "
                           "(valid_until IS NULL OR valid_until > ?3) AND valid_from < ?4 "
                           "ORDER BY valid_from LIMIT 1")
            : conn.Prepare("SELECT id FROM tag_bindings WHERE org_id = ?1 AND tag = ?2 AND "
                           "(valid_until IS NULL OR valid_until > ?3) "
                           "ORDER BY valid_from LIMIT 1"));
    if (row.valid_until.has_value()) st.BindTime(4, *row.valid_until);
    st.BindInt(1, row.org_id.value);
    st.BindText(2, row.tag);
    st.BindTime(3, row.valid_from);
    WG_ASSIGN_OR_RETURN(bool overlaps, st.Step());
    if (overlaps) {
      return Status::FailedPrecondition("window overlaps binding " +
                                            std::to_string(st.ColumnInt(0)) + " of tag " +
                                            Quote(row.tag),
                                        "valid_from");
    }
  }
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("INSERT INTO tag_bindings (org_id, tag, person, valid_from, "
                                   "valid_until, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5, "
                                   "?6, ?7) RETURNING " WG_STORE_BINDING_COLUMNS));
  st.BindInt(1, row.org_id.value);
  st.BindText(2, row.tag);
  st.BindText(3, row.person);
  st.BindTime(4, row.valid_from);
  if (row.valid_until.has_value()) {
    st.BindTime(5, *row.valid_until);
  } else {
    st.BindTextOrNull(5, "");
  }
  st.BindText(6, row.note);
  st.BindTime(7, row.created_at.micros != 0 ? row.created_at : now);
  auto r = ReadOne(st, &ReadBinding, "insert returned no row");
  if (!r.has_value()) return ExplainOrg(st, r.error(), row.org_id);
  return r;
}

Result<TagBindingRow> EndTagBinding(Connection& conn, core::OrgId org, std::int64_t id,
                                    core::Timestamp until) {
  const std::string name = "tag binding " + std::to_string(id);
  {
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn.Prepare("SELECT valid_from, valid_until FROM tag_bindings "
                                     "WHERE org_id = ?1 AND id = ?2"));
    st.BindInt(1, org.value);
    st.BindInt(2, id);
    WG_ASSIGN_OR_RETURN(bool found, st.Step());
    if (!found) return Status::NotFound(name + " not found");
    if (!st.IsNull(1)) {
      return Status::FailedPrecondition(
          name + " already ended at " + std::to_string(st.ColumnInt(1)), "id");
    }
    if (until.micros <= st.ColumnInt(0)) {
      return Status::FailedPrecondition(name + " starts at " + std::to_string(st.ColumnInt(0)) +
                                            ", it cannot end at or before that",
                                        "until");
    }
  }
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("UPDATE tag_bindings SET valid_until = ?1 WHERE org_id = ?2 "
                                   "AND id = ?3 AND valid_until IS NULL "
                                   "RETURNING " WG_STORE_BINDING_COLUMNS));
  st.BindTime(1, until);
  st.BindInt(2, org.value);
  st.BindInt(3, id);
  return ReadOne(st, &ReadBinding, name + " not found");
}

Result<std::vector<TagBindingRow>> ListTagBindings(Connection& conn, core::OrgId org,
                                                   const std::string& tag) {
  if (tag.empty()) {
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn.Prepare("SELECT " WG_STORE_BINDING_COLUMNS
                                     " FROM tag_bindings WHERE org_id = ?1 "
                                     "ORDER BY tag, valid_from, id"));
    st.BindInt(1, org.value);
    return ReadAll(st, &ReadBinding);
  }
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("SELECT " WG_STORE_BINDING_COLUMNS
                                   " FROM tag_bindings WHERE org_id = ?1 AND tag = ?2 "
                                   "ORDER BY valid_from, id"));
  st.BindInt(1, org.value);
  st.BindText(2, tag);
  return ReadAll(st, &ReadBinding);
}

Status ScanTagBindings(Connection& conn,
                       const std::function<bool(const TagBindingRow&)>& on_row) {
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("SELECT " WG_STORE_BINDING_COLUMNS
                                   " FROM tag_bindings ORDER BY org_id, tag, valid_from, id"));
  while (true) {
    WG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    WG_ASSIGN_OR_RETURN(TagBindingRow b, ReadBinding(st));
    if (!on_row(b)) return Status::Ok();
  }
}

// ---- Trajectory blocks.

Status InsertTrajectoryBlocks(Connection& conn, const std::vector<TrajectoryBlockRow>& blocks,
                              const std::vector<int>& fact_index, std::int64_t first_seq) {
  if (blocks.empty()) return Status::Ok();
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("INSERT INTO trajectory_blocks (" WG_STORE_TRAJECTORY_COLUMNS
                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const TrajectoryBlockRow& b = blocks[i];
    st.Reset();
    st.BindInt(1, b.org_id.value);
    st.BindText(2, b.tag);
    st.BindText(3, b.site);
    st.BindTime(4, b.minute);
    st.BindInt(5, b.part);
    st.BindTime(6, b.first);
    st.BindTime(7, b.last);
    st.BindInt(8, b.count);
    st.BindBlob(9, b.data);
    st.BindText(10, b.sm3_hex);
    st.BindInt(11, first_seq + fact_index[i]);
    if (Status s = st.StepDone(); !s.ok()) {
      if (st.last_error() == SQLITE_CONSTRAINT_PRIMARYKEY ||
          st.last_error() == SQLITE_CONSTRAINT_UNIQUE) {
        return Status::AlreadyExists("trajectory block of tag " + Quote(b.tag) + " minute " +
                                         std::to_string(b.minute.micros) + " part " +
                                         std::to_string(b.part) + " already exists",
                                     "blocks[" + std::to_string(i) + "]");
      }
      return ExplainOrg(st, s, b.org_id);
    }
  }
  return Status::Ok();
}

Result<std::vector<TrajectoryBlockRow>> TrajectoryBlocks(Connection& conn, core::OrgId org,
                                                         const std::string& tag,
                                                         core::Timestamp from,
                                                         core::Timestamp to, int limit) {
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("SELECT " WG_STORE_TRAJECTORY_COLUMNS
                                   " FROM trajectory_blocks WHERE org_id = ?1 AND tag = ?2 "
                                   "AND minute >= ?3 AND minute < ?4 ORDER BY minute, part "
                                   "LIMIT ?5"));
  st.BindInt(1, org.value);
  st.BindText(2, tag);
  st.BindTime(3, from);
  st.BindTime(4, to);
  st.BindInt(5, limit);
  return ReadAll(st, &ReadTrajectoryBlock);
}

}  // namespace wg::store::sqlite
