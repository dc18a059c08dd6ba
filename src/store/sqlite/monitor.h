#pragma once
// Live monitoring tables of the SQLite backend (schema v5, docs/formats/sqlite-schema.md):
// input checks, and the statements of the Store's monitoring methods. The Check*
// functions run before any lock is taken; the others run on `conn` inside the caller's
// transaction (the caller locks, begins, commits). Private to the SQLite backend.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.h"
#include "wg/store/store.h"

namespace wg::store::sqlite {

// Input checks; kInvalidArgument naming the field.
Status CheckPointId(std::string_view id, const std::string& field);
Status CheckPointRow(const PointRow& row);
Status CheckAlarmSubject(std::string_view id, const std::string& field);
Status CheckAlarmFilter(const AlarmFilter& filter);
Status CheckRecordAlarms(const std::vector<AlarmRow>& alarms,
                         const std::vector<NotificationRow>& notifications, core::OrgId org);
Status CheckReadingBlocks(const std::vector<ReadingBlockRow>& blocks,
                          const std::vector<int>& fact_index, core::OrgId org,
                          std::size_t fact_count);
Status CheckLimit(int limit, int max);
Status CheckNotificationError(std::string_view error);

// Points.
Result<PointRow> PutPoint(Connection& conn, const PointRow& row, std::int64_t expected_version,
                          core::Timestamp now);
Status DeletePoint(Connection& conn, core::OrgId org, const std::string& id,
                   core::Timestamp now);
Result<PointRow> GetPoint(Connection& conn, core::OrgId org, const std::string& id);
Result<std::vector<PointRow>> ListPoints(Connection& conn, core::OrgId org);
Status ScanPoints(Connection& conn, const std::function<bool(const PointRow&)>& on_row);

// Alarms and notifications.
Status UpsertAlarms(Connection& conn, const std::vector<AlarmRow>& alarms);
Status InsertNotifications(Connection& conn, const std::vector<NotificationRow>& rows,
                           core::Timestamp now);
Result<AlarmRow> GetAlarm(Connection& conn, core::OrgId org, std::int64_t id);
Result<std::vector<AlarmRow>> ListAlarms(Connection& conn, core::OrgId org,
                                         const AlarmFilter& filter, std::int64_t before_id,
                                         int limit);
Result<std::vector<AlarmRow>> OpenAlarms(Connection& conn);
Result<std::int64_t> MaxAlarmId(Connection& conn);

// Reading blocks: inserts `blocks`, block i with fact_seq = first_seq + fact_index[i].
Status InsertReadingBlocks(Connection& conn, const std::vector<ReadingBlockRow>& blocks,
                           const std::vector<int>& fact_index, std::int64_t first_seq);
Result<std::vector<ReadingBlockRow>> ReadingBlocks(Connection& conn, core::OrgId org,
                                                   const std::string& point,
                                                   core::Timestamp from, core::Timestamp to,
                                                   int limit);

Result<std::vector<NotificationRow>> DueNotifications(Connection& conn, core::Timestamp now,
                                                      int max_attempts, int limit);
Status MarkNotification(Connection& conn, std::int64_t id, bool delivered, core::Timestamp now,
                        core::Timestamp next_attempt_at, const std::string& error);
Result<std::vector<NotificationRow>> ListNotifications(Connection& conn, core::OrgId org,
                                                       std::int64_t after_id, int limit);
Result<std::int64_t> CountPendingNotifications(Connection& conn);

}  // namespace wg::store::sqlite
