#pragma once
// People-on-site tables of the SQLite backend (schema v6, docs/formats/sqlite-schema.md):
// input checks, and the statements of the Store's presence methods. The Check* functions
// run before any lock is taken; the others run on `conn` inside the caller's transaction
// (the caller locks, begins, commits). Private to the SQLite backend.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.h"
#include "wg/store/store.h"

namespace wg::store::sqlite {

// Input checks; kInvalidArgument naming the field.
Status CheckPresenceKind(std::string_view kind, const std::string& field);
Status CheckPresenceObjectRow(const PresenceObjectRow& row);
Status CheckTagBindingRow(const TagBindingRow& row);
Status CheckTrajectoryBlocks(const std::vector<TrajectoryBlockRow>& blocks,
                             const std::vector<int>& fact_index, core::OrgId org,
                             std::size_t fact_count);

// Presence objects (tags, fences, site frames).
Result<PresenceObjectRow> PutPresenceObject(Connection& conn, const PresenceObjectRow& row,
                                            std::int64_t expected_version, core::Timestamp now);
Status DeletePresenceObject(Connection& conn, core::OrgId org, const std::string& kind,
                            const std::string& id, core::Timestamp now);
Result<PresenceObjectRow> GetPresenceObject(Connection& conn, core::OrgId org,
                                            const std::string& kind, const std::string& id);
Result<std::vector<PresenceObjectRow>> ListPresenceObjects(Connection& conn, core::OrgId org,
                                                           const std::string& kind);
Status ScanPresenceObjects(Connection& conn,
                           const std::function<bool(const PresenceObjectRow&)>& on_row);

// Tag bindings.
Result<TagBindingRow> AddTagBinding(Connection& conn, const TagBindingRow& row,
                                    core::Timestamp now);
Result<TagBindingRow> EndTagBinding(Connection& conn, core::OrgId org, std::int64_t id,
                                    core::Timestamp until);
Result<std::vector<TagBindingRow>> ListTagBindings(Connection& conn, core::OrgId org,
                                                   const std::string& tag);
Status ScanTagBindings(Connection& conn, const std::function<bool(const TagBindingRow&)>& on_row);

// Trajectory blocks: inserts `blocks`, block i with fact_seq = first_seq + fact_index[i].
Status InsertTrajectoryBlocks(Connection& conn, const std::vector<TrajectoryBlockRow>& blocks,
                              const std::vector<int>& fact_index, std::int64_t first_seq);
Result<std::vector<TrajectoryBlockRow>> TrajectoryBlocks(Connection& conn, core::OrgId org,
                                                         const std::string& tag,
                                                         core::Timestamp from,
                                                         core::Timestamp to, int limit);

}  // namespace wg::store::sqlite
