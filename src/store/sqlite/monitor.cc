#include "monitor.h"

#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "rows.h"
#include "wg/core/strings.h"

#define WG_STORE_POINT_COLUMNS "org_id, id, site, kind, document, version, deleted, updated_at"
#define WG_STORE_ALARM_COLUMNS \
  "id, org_id, site, point, rule, level, state, raised_at, updated_at, document"
#define WG_STORE_BLOCK_COLUMNS                                                          \
  "org_id, point, site, minute, part, first, last, count, min, max, data, sm3_hex, " \
  "fact_seq"
#define WG_STORE_NOTIFICATION_COLUMNS                                                   \
  "id, org_id, channel, target, subject, payload, created_at, next_attempt_at, attempts, " \
  "delivered_at, last_error"

namespace wg::store::sqlite {
namespace {

constexpr std::size_t kMaxCodeBytes = 64;
constexpr std::size_t kMaxPointDocumentBytes = 64 * 1024;
constexpr std::size_t kMaxBlockBytes = std::size_t{4} << 20;
constexpr std::size_t kMaxTargetBytes = 2048;
constexpr std::size_t kMaxSubjectBytes = 256;
constexpr std::size_t kMaxErrorBytes = 4096;
constexpr std::int64_t kMinuteMicros = 60'000'000;
constexpr std::array<std::string_view, 4> kAlarmStates = {"active_unacked", "active_acked",
                                                          "cleared_unacked", "cleared_acked"};

bool IsAlarmState(std::string_view s) {
  for (std::string_view known : kAlarmStates) {
    if (s == known) return true;
  }
  return false;
}

// min..max bytes; valid UTF-8 without control characters when `text`.
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

Status CheckCodeText(std::string_view value, std::size_t min, const std::string& field) {
  return CheckString(value, min, kMaxCodeBytes, /*no_controls=*/true, field);
}

Status CheckDocument(std::string_view value, const std::string& field) {
  return CheckString(value, 0, kMaxPointDocumentBytes, /*no_controls=*/false, field);
}

Status CheckOrg(core::OrgId got, core::OrgId want, const std::string& field) {
  if (got != want) {
    return Status::InvalidArgument("is organization " + std::to_string(got.value) +
                                       ", the call is for " + std::to_string(want.value),
                                   field);
  }
  return Status::Ok();
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status Corrupt(std::string_view table, const std::string& key, std::string_view column,
               const std::string& what) {
  return Status::Corruption("corrupt row in " + std::string(table) + " (id " + key +
                            "): column " + std::string(column) + ": " + what);
}

Result<int> ReadInt32(const Statement& st, int col, std::string_view table, const std::string& key,
                      std::string_view column, std::int64_t min, std::int64_t max) {
  const std::int64_t v = st.ColumnInt(col);
  if (v < min || v > max) {
    return Corrupt(table, key, column, "value " + std::to_string(v) + " out of range");
  }
  return static_cast<int>(v);
}

Result<PointRow> ReadPoint(const Statement& st) {
  PointRow p;
  p.org_id = core::OrgId{st.ColumnInt(0)};
  p.id = st.ColumnText(1);
  p.site = st.ColumnText(2);
  p.kind = st.ColumnText(3);
  p.document = st.ColumnText(4);
  p.version = st.ColumnInt(5);
  const std::int64_t deleted = st.ColumnInt(6);
  if (deleted != 0 && deleted != 1) {
    return Corrupt("monitor_points", Quote(p.id), "deleted",
                   "boolean is " + std::to_string(deleted) + ", want 0 or 1");
  }
  p.deleted = deleted == 1;
  p.updated_at = core::Timestamp{st.ColumnInt(7)};
  return p;
}

Result<AlarmRow> ReadAlarm(const Statement& st) {
  AlarmRow a;
  a.id = st.ColumnInt(0);
  const std::string key = std::to_string(a.id);
  a.org_id = core::OrgId{st.ColumnInt(1)};
  a.site = st.ColumnText(2);
  a.point = st.ColumnText(3);
  a.rule = st.ColumnText(4);
  WG_ASSIGN_OR_RETURN(a.level, ReadInt32(st, 5, "alarms", key, "level", 1, 3));
  a.state = st.ColumnText(6);
  if (!IsAlarmState(a.state)) {
    return Corrupt("alarms", key, "state", "unknown state " + Quote(a.state));
  }
  a.raised_at = core::Timestamp{st.ColumnInt(7)};
  a.updated_at = core::Timestamp{st.ColumnInt(8)};
  a.document = st.ColumnText(9);
  return a;
}

Result<ReadingBlockRow> ReadBlock(const Statement& st) {
  ReadingBlockRow b;
  b.org_id = core::OrgId{st.ColumnInt(0)};
  b.point = st.ColumnText(1);
  b.site = st.ColumnText(2);
  b.minute = core::Timestamp{st.ColumnInt(3)};
  const std::string key = Quote(b.point) + " minute " + std::to_string(b.minute.micros);
  WG_ASSIGN_OR_RETURN(b.part, ReadInt32(st, 4, "reading_blocks", key, "part", 0,
                                        std::numeric_limits<int>::max()));
  b.first = core::Timestamp{st.ColumnInt(5)};
  b.last = core::Timestamp{st.ColumnInt(6)};
  b.count = st.ColumnInt(7);
  b.min = st.ColumnDouble(8);
  b.max = st.ColumnDouble(9);
  b.data = st.ColumnBlob(10);
  b.sm3_hex = st.ColumnText(11);
  b.fact_seq = st.ColumnInt(12);
  return b;
}

Result<NotificationRow> ReadNotification(const Statement& st) {
  NotificationRow n;
  n.id = st.ColumnInt(0);
  const std::string key = std::to_string(n.id);
  n.org_id = core::OrgId{st.ColumnInt(1)};
  n.channel = st.ColumnText(2);
  n.target = st.ColumnText(3);
  n.subject = st.ColumnText(4);
  n.payload = st.ColumnText(5);
  n.created_at = core::Timestamp{st.ColumnInt(6)};
  n.next_attempt_at = core::Timestamp{st.ColumnInt(7)};
  WG_ASSIGN_OR_RETURN(n.attempts, ReadInt32(st, 8, "notifications", key, "attempts", 0,
                                            std::numeric_limits<int>::max()));
  if (!st.IsNull(9)) n.delivered_at = core::Timestamp{st.ColumnInt(9)};
  n.last_error = st.ColumnText(10);
  return n;
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

}  // namespace

// ---- Checks.

Status CheckPointId(std::string_view id, const std::string& field) {
  if (id.empty() || id.size() > 64) {
    return Status::InvalidArgument("must be 1..64 characters, got " + std::to_string(id.size()),
                                   field);
  }
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return Status::InvalidArgument("must match [A-Za-z0-9._-]{1,64}, got " + Quote(id), field);
  }
  return Status::Ok();
}

Status CheckPointRow(const PointRow& row) {
  WG_RETURN_IF_ERROR(CheckPointId(row.id, "id"));
  WG_RETURN_IF_ERROR(CheckCodeText(row.site, 1, "site"));
  WG_RETURN_IF_ERROR(CheckCodeText(row.kind, 1, "kind"));
  return CheckDocument(row.document, "document");
}

Status CheckAlarmFilter(const AlarmFilter& filter) {
  if (filter.states.size() > kAlarmStates.size()) {
    return Status::InvalidArgument("at most 4 states", "filter.states");
  }
  for (std::size_t i = 0; i < filter.states.size(); ++i) {
    if (!IsAlarmState(filter.states[i])) {
      return Status::InvalidArgument("unknown alarm state " + Quote(filter.states[i]),
                                     "filter.states[" + std::to_string(i) + "]");
    }
  }
  WG_RETURN_IF_ERROR(CheckCodeText(filter.site, 0, "filter.site"));
  if (!filter.point.empty()) WG_RETURN_IF_ERROR(CheckAlarmSubject(filter.point, "filter.point"));
  if (filter.min_level < 0 || filter.min_level > 3) {
    return Status::InvalidArgument("must be 0..3, got " + std::to_string(filter.min_level),
                                   "filter.min_level");
  }
  return Status::Ok();
}

// An alarm's point: a point id, or the subject of an alarm raised by the presence engine
// ("permit:HW-20261129-0001/guardian", "person:worker:W001"): [A-Za-z0-9._:/-]{1,160}.
Status CheckAlarmSubject(std::string_view id, const std::string& field) {
  if (id.empty() || id.size() > 160) {
    return Status::InvalidArgument("must be 1..160 characters, got " + std::to_string(id.size()),
                                   field);
  }
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == ':' || c == '/';
    if (!ok) {
      return Status::InvalidArgument("must match [A-Za-z0-9._:/-]{1,160}, got " + Quote(id), field);
    }
  }
  return Status::Ok();
}

Status CheckRecordAlarms(const std::vector<AlarmRow>& alarms,
                         const std::vector<NotificationRow>& notifications, core::OrgId org) {
  for (std::size_t i = 0; i < alarms.size(); ++i) {
    const AlarmRow& a = alarms[i];
    const std::string p = "alarms[" + std::to_string(i) + "].";
    WG_RETURN_IF_ERROR(CheckOrg(a.org_id, org, p + "org_id"));
    if (a.id < 1) {
      return Status::InvalidArgument("must be at least 1, got " + std::to_string(a.id), p + "id");
    }
    WG_RETURN_IF_ERROR(CheckCodeText(a.site, 1, p + "site"));
    WG_RETURN_IF_ERROR(CheckAlarmSubject(a.point, p + "point"));
    WG_RETURN_IF_ERROR(CheckCodeText(a.rule, 1, p + "rule"));
    if (a.level < 1 || a.level > 3) {
      return Status::InvalidArgument("must be 1..3, got " + std::to_string(a.level), p + "level");
    }
    if (!IsAlarmState(a.state)) {
      return Status::InvalidArgument("unknown alarm state " + Quote(a.state), p + "state");
    }
    WG_RETURN_IF_ERROR(CheckDocument(a.document, p + "document"));
  }
  for (std::size_t i = 0; i < notifications.size(); ++i) {
    const NotificationRow& n = notifications[i];
    const std::string p = "notifications[" + std::to_string(i) + "].";
    WG_RETURN_IF_ERROR(CheckOrg(n.org_id, org, p + "org_id"));
    if (n.channel != "outbox" && n.channel != "webhook") {
      return Status::InvalidArgument("must be \"outbox\" or \"webhook\", got " + Quote(n.channel),
                                     p + "channel");
    }
    WG_RETURN_IF_ERROR(CheckString(n.target, 1, kMaxTargetBytes, true, p + "target"));
    WG_RETURN_IF_ERROR(CheckString(n.subject, 1, kMaxSubjectBytes, true, p + "subject"));
    WG_RETURN_IF_ERROR(CheckDocument(n.payload, p + "payload"));
    if (n.attempts < 0) return Status::InvalidArgument("must not be negative", p + "attempts");
    WG_RETURN_IF_ERROR(CheckString(n.last_error, 0, kMaxErrorBytes, false, p + "last_error"));
  }
  return Status::Ok();
}

Status CheckReadingBlocks(const std::vector<ReadingBlockRow>& blocks,
                          const std::vector<int>& fact_index, core::OrgId org,
                          std::size_t fact_count) {
  if (fact_index.size() != blocks.size()) {
    return Status::InvalidArgument("has " + std::to_string(fact_index.size()) +
                                       " entries for " + std::to_string(blocks.size()) +
                                       " blocks",
                                   "fact_index");
  }
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const ReadingBlockRow& b = blocks[i];
    const std::string p = "blocks[" + std::to_string(i) + "].";
    if (fact_index[i] < 0 || static_cast<std::size_t>(fact_index[i]) >= fact_count) {
      return Status::InvalidArgument("names fact " + std::to_string(fact_index[i]) + " of " +
                                         std::to_string(fact_count),
                                     "fact_index[" + std::to_string(i) + "]");
    }
    WG_RETURN_IF_ERROR(CheckOrg(b.org_id, org, p + "org_id"));
    WG_RETURN_IF_ERROR(CheckPointId(b.point, p + "point"));
    WG_RETURN_IF_ERROR(CheckCodeText(b.site, 1, p + "site"));
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
    if (std::isnan(b.min)) return Status::InvalidArgument("must not be NaN", p + "min");
    if (std::isnan(b.max) || b.max < b.min) {
      return Status::InvalidArgument("must be a number >= min", p + "max");
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

Status CheckLimit(int limit, int max) {
  if (limit < 1 || limit > max) {
    return Status::InvalidArgument("limit must be in 1.." + std::to_string(max), "limit");
  }
  return Status::Ok();
}

Status CheckNotificationError(std::string_view error) {
  return CheckString(error, 0, kMaxErrorBytes, false, "error");
}

// ---- Points.

Result<PointRow> PutPoint(Connection& conn, const PointRow& row, std::int64_t expected_version,
                          core::Timestamp now) {
  const std::string name = "point " + Quote(row.id);
  bool found = false;
  bool deleted = false;
  std::int64_t stored = 0;
  {
    WG_ASSIGN_OR_RETURN(Statement st, conn.Prepare("SELECT version, deleted FROM monitor_points "
                                                   "WHERE org_id = ?1 AND id = ?2"));
    st.BindInt(1, row.org_id.value);
    st.BindText(2, row.id);
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
                          conn.Prepare("INSERT INTO monitor_points (" WG_STORE_POINT_COLUMNS
                                       ") VALUES (?1, ?2, ?3, ?4, ?5, 1, 0, ?6) "
                                       "RETURNING " WG_STORE_POINT_COLUMNS));
      st.BindInt(1, row.org_id.value);
      st.BindText(2, row.id);
      st.BindText(3, row.site);
      st.BindText(4, row.kind);
      st.BindText(5, row.document);
      st.BindTime(6, now);
      auto r = ReadOne(st, &ReadPoint, "insert returned no row");
      if (!r.has_value()) return ExplainOrg(st, r.error(), row.org_id);
      return r;
    }
    // A deleted point is revived; its version keeps counting.
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
                      conn.Prepare("UPDATE monitor_points SET site = ?1, kind = ?2, "
                                   "document = ?3, version = ?4, deleted = 0, updated_at = ?5 "
                                   "WHERE org_id = ?6 AND id = ?7 AND version = ?8 "
                                   "RETURNING " WG_STORE_POINT_COLUMNS));
  st.BindText(1, row.site);
  st.BindText(2, row.kind);
  st.BindText(3, row.document);
  st.BindInt(4, stored + 1);
  st.BindTime(5, now);
  st.BindInt(6, row.org_id.value);
  st.BindText(7, row.id);
  st.BindInt(8, stored);
  return ReadOne(st, &ReadPoint, name + " not found");
}

Status DeletePoint(Connection& conn, core::OrgId org, const std::string& id,
                   core::Timestamp now) {
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("UPDATE monitor_points SET deleted = 1, version = version + 1, "
                                   "updated_at = ?1 WHERE org_id = ?2 AND id = ?3 AND "
                                   "deleted = 0"));
  st.BindTime(1, now);
  st.BindInt(2, org.value);
  st.BindText(3, id);
  WG_RETURN_IF_ERROR(st.StepDone());
  if (conn.Changes() == 0) return Status::NotFound("point " + Quote(id) + " not found");
  return Status::Ok();
}

Result<PointRow> GetPoint(Connection& conn, core::OrgId org, const std::string& id) {
  WG_ASSIGN_OR_RETURN(Statement st, conn.Prepare("SELECT " WG_STORE_POINT_COLUMNS
                                                 " FROM monitor_points WHERE org_id = ?1 AND "
                                                 "id = ?2"));
  st.BindInt(1, org.value);
  st.BindText(2, id);
  return ReadOne(st, &ReadPoint, "point " + Quote(id) + " not found");
}

Result<std::vector<PointRow>> ListPoints(Connection& conn, core::OrgId org) {
  WG_ASSIGN_OR_RETURN(Statement st, conn.Prepare("SELECT " WG_STORE_POINT_COLUMNS
                                                 " FROM monitor_points WHERE org_id = ?1 AND "
                                                 "deleted = 0 ORDER BY id"));
  st.BindInt(1, org.value);
  return ReadAll(st, &ReadPoint);
}

Status ScanPoints(Connection& conn, const std::function<bool(const PointRow&)>& on_row) {
  WG_ASSIGN_OR_RETURN(Statement st, conn.Prepare("SELECT " WG_STORE_POINT_COLUMNS
                                                 " FROM monitor_points WHERE deleted = 0 "
                                                 "ORDER BY org_id, id"));
  while (true) {
    WG_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    WG_ASSIGN_OR_RETURN(PointRow p, ReadPoint(st));
    if (!on_row(p)) return Status::Ok();
  }
}

// ---- Alarms and notifications.

Status UpsertAlarms(Connection& conn, const std::vector<AlarmRow>& alarms) {
  if (alarms.empty()) return Status::Ok();
  // An id of another organization is left alone by the WHERE and reported below.
  WG_ASSIGN_OR_RETURN(
      Statement st,
      conn.Prepare("INSERT INTO alarms (" WG_STORE_ALARM_COLUMNS
                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO "
                   "UPDATE SET site = excluded.site, point = excluded.point, "
                   "rule = excluded.rule, level = excluded.level, state = excluded.state, "
                   "raised_at = excluded.raised_at, updated_at = excluded.updated_at, "
                   "document = excluded.document WHERE alarms.org_id = excluded.org_id"));
  for (std::size_t i = 0; i < alarms.size(); ++i) {
    const AlarmRow& a = alarms[i];
    st.Reset();
    st.BindInt(1, a.id);
    st.BindInt(2, a.org_id.value);
    st.BindText(3, a.site);
    st.BindText(4, a.point);
    st.BindText(5, a.rule);
    st.BindInt(6, a.level);
    st.BindText(7, a.state);
    st.BindTime(8, a.raised_at);
    st.BindTime(9, a.updated_at);
    st.BindText(10, a.document);
    if (Status s = st.StepDone(); !s.ok()) return ExplainOrg(st, s, a.org_id);
    if (conn.Changes() == 0) {
      return Status::AlreadyExists("alarm id " + std::to_string(a.id) +
                                       " belongs to another organization",
                                   "alarms[" + std::to_string(i) + "].id");
    }
  }
  return Status::Ok();
}

Status InsertNotifications(Connection& conn, const std::vector<NotificationRow>& rows,
                           core::Timestamp now) {
  if (rows.empty()) return Status::Ok();
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("INSERT INTO notifications (org_id, channel, target, "
                                   "subject, payload, created_at, next_attempt_at, attempts, "
                                   "delivered_at, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                   "?7, ?8, ?9, ?10)"));
  for (const NotificationRow& n : rows) {
    st.Reset();
    const core::Timestamp created = n.created_at.micros != 0 ? n.created_at : now;
    st.BindInt(1, n.org_id.value);
    st.BindText(2, n.channel);
    st.BindText(3, n.target);
    st.BindText(4, n.subject);
    st.BindText(5, n.payload);
    st.BindTime(6, created);
    st.BindTime(7, n.next_attempt_at.micros != 0 ? n.next_attempt_at : created);
    st.BindInt(8, n.attempts);
    if (n.delivered_at.has_value()) {
      st.BindTime(9, *n.delivered_at);
    } else {
      st.BindTextOrNull(9, "");
    }
    st.BindText(10, n.last_error);
    if (Status s = st.StepDone(); !s.ok()) return ExplainOrg(st, s, n.org_id);
  }
  return Status::Ok();
}

Result<AlarmRow> GetAlarm(Connection& conn, core::OrgId org, std::int64_t id) {
  WG_ASSIGN_OR_RETURN(Statement st, conn.Prepare("SELECT " WG_STORE_ALARM_COLUMNS
                                                 " FROM alarms WHERE org_id = ?1 AND id = ?2"));
  st.BindInt(1, org.value);
  st.BindInt(2, id);
  return ReadOne(st, &ReadAlarm, "alarm " + std::to_string(id) + " not found");
}

Result<std::vector<AlarmRow>> ListAlarms(Connection& conn, core::OrgId org,
                                         const AlarmFilter& filter, std::int64_t before_id,
                                         int limit) {
  // Only the filters in use appear in the SQL (each combination prepared once).
  int param = 1;  // ?1 is the organization
  auto next = [&param] { return "?" + std::to_string(++param); };
  std::string sql = "SELECT " WG_STORE_ALARM_COLUMNS " FROM alarms WHERE org_id = ?1";
  if (!filter.states.empty()) {
    sql += " AND state IN (";
    for (std::size_t i = 0; i < filter.states.size(); ++i) sql += (i > 0 ? ", " : "") + next();
    sql += ")";
  }
  if (!filter.site.empty()) sql += " AND site = " + next();
  if (!filter.point.empty()) sql += " AND point = " + next();
  if (filter.min_level > 1) sql += " AND level >= " + next();
  if (filter.from.has_value()) sql += " AND raised_at >= " + next();
  if (filter.to.has_value()) sql += " AND raised_at < " + next();
  if (before_id > 0) sql += " AND id < " + next();
  sql += " ORDER BY id DESC LIMIT " + next();

  WG_ASSIGN_OR_RETURN(Statement st, conn.PrepareBuilt(std::move(sql)));
  int i = 1;
  st.BindInt(i, org.value);
  for (const std::string& s : filter.states) st.BindText(++i, s);
  if (!filter.site.empty()) st.BindText(++i, filter.site);
  if (!filter.point.empty()) st.BindText(++i, filter.point);
  if (filter.min_level > 1) st.BindInt(++i, filter.min_level);
  if (filter.from.has_value()) st.BindTime(++i, *filter.from);
  if (filter.to.has_value()) st.BindTime(++i, *filter.to);
  if (before_id > 0) st.BindInt(++i, before_id);
  st.BindInt(++i, limit);
  if (i != param) return Status::Internal("ListAlarms bound the wrong number of parameters");
  return ReadAll(st, &ReadAlarm);
}

Result<std::vector<AlarmRow>> OpenAlarms(Connection& conn) {
  // The WHERE term matches the partial index alarms_open word for word.
  WG_ASSIGN_OR_RETURN(Statement st, conn.Prepare("SELECT " WG_STORE_ALARM_COLUMNS
                                                 " FROM alarms WHERE state <> 'cleared_acked' "
                                                 "ORDER BY id"));
  return ReadAll(st, &ReadAlarm);
}

Result<std::int64_t> MaxAlarmId(Connection& conn) {
  WG_ASSIGN_OR_RETURN(Statement st, conn.Prepare("SELECT coalesce(max(id), 0) FROM alarms"));
  WG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Internal("max(id) returned no row");
  return st.ColumnInt(0);
}

// ---- Reading blocks.

Status InsertReadingBlocks(Connection& conn, const std::vector<ReadingBlockRow>& blocks,
                           const std::vector<int>& fact_index, std::int64_t first_seq) {
  if (blocks.empty()) return Status::Ok();
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("INSERT INTO reading_blocks (" WG_STORE_BLOCK_COLUMNS
                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                                   "?12, ?13)"));
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const ReadingBlockRow& b = blocks[i];
    st.Reset();
    st.BindInt(1, b.org_id.value);
    st.BindText(2, b.point);
    st.BindText(3, b.site);
    st.BindTime(4, b.minute);
    st.BindInt(5, b.part);
    st.BindTime(6, b.first);
    st.BindTime(7, b.last);
    st.BindInt(8, b.count);
    st.BindDouble(9, b.min);
    st.BindDouble(10, b.max);
    st.BindBlob(11, b.data);
    st.BindText(12, b.sm3_hex);
    st.BindInt(13, first_seq + fact_index[i]);
    if (Status s = st.StepDone(); !s.ok()) {
      if (st.last_error() == SQLITE_CONSTRAINT_UNIQUE) {
        return Status::AlreadyExists("block of point " + Quote(b.point) + " minute " +
                                         std::to_string(b.minute.micros) + " part " +
                                         std::to_string(b.part) + " already exists",
                                     "blocks[" + std::to_string(i) + "]");
      }
      return ExplainOrg(st, s, b.org_id);
    }
  }
  return Status::Ok();
}

Result<std::vector<ReadingBlockRow>> ReadingBlocks(Connection& conn, core::OrgId org,
                                                   const std::string& point,
                                                   core::Timestamp from, core::Timestamp to,
                                                   int limit) {
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("SELECT " WG_STORE_BLOCK_COLUMNS " FROM reading_blocks "
                                   "WHERE org_id = ?1 AND point = ?2 AND minute >= ?3 AND "
                                   "minute < ?4 ORDER BY minute, part LIMIT ?5"));
  st.BindInt(1, org.value);
  st.BindText(2, point);
  st.BindTime(3, from);
  st.BindTime(4, to);
  st.BindInt(5, limit);
  return ReadAll(st, &ReadBlock);
}

// ---- Notifications.

Result<std::vector<NotificationRow>> DueNotifications(Connection& conn, core::Timestamp now,
                                                      int max_attempts, int limit) {
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("SELECT " WG_STORE_NOTIFICATION_COLUMNS
                                   " FROM notifications WHERE delivered_at IS NULL AND "
                                   "next_attempt_at <= ?1 AND attempts < ?2 AND "
                                   "channel = 'webhook' ORDER BY next_attempt_at, id LIMIT ?3"));
  st.BindTime(1, now);
  st.BindInt(2, max_attempts);
  st.BindInt(3, limit);
  return ReadAll(st, &ReadNotification);
}

Status MarkNotification(Connection& conn, std::int64_t id, bool delivered, core::Timestamp now,
                        core::Timestamp next_attempt_at, const std::string& error) {
  const std::string name = "notification " + std::to_string(id);
  {
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn.Prepare("SELECT delivered_at IS NOT NULL FROM notifications "
                                     "WHERE id = ?1"));
    st.BindInt(1, id);
    WG_ASSIGN_OR_RETURN(bool found, st.Step());
    if (!found) return Status::NotFound(name + " not found");
    if (st.ColumnInt(0) != 0) {
      return Status::FailedPrecondition(name + " was already delivered", "id");
    }
  }
  if (delivered) {
    WG_ASSIGN_OR_RETURN(Statement st,
                        conn.Prepare("UPDATE notifications SET delivered_at = ?1, "
                                     "attempts = attempts + 1 WHERE id = ?2"));
    st.BindTime(1, now);
    st.BindInt(2, id);
    return st.StepDone();
  }
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("UPDATE notifications SET attempts = attempts + 1, "
                                   "last_error = ?1, next_attempt_at = ?2 WHERE id = ?3"));
  st.BindText(1, error);
  st.BindTime(2, next_attempt_at);
  st.BindInt(3, id);
  return st.StepDone();
}

Result<std::vector<NotificationRow>> ListNotifications(Connection& conn, core::OrgId org,
                                                       std::int64_t after_id, int limit) {
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("SELECT " WG_STORE_NOTIFICATION_COLUMNS
                                   " FROM notifications WHERE org_id = ?1 AND id > ?2 "
                                   "ORDER BY id LIMIT ?3"));
  st.BindInt(1, org.value);
  st.BindInt(2, after_id);
  st.BindInt(3, limit);
  return ReadAll(st, &ReadNotification);
}

Result<std::int64_t> CountPendingNotifications(Connection& conn) {
  WG_ASSIGN_OR_RETURN(Statement st,
                      conn.Prepare("SELECT count(*) FROM notifications WHERE "
                                   "delivered_at IS NULL AND channel = 'webhook'"));
  WG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Internal("count(*) returned no row");
  return st.ColumnInt(0);
}

}  // namespace wg::store::sqlite
