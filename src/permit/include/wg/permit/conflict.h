#pragma once
// OpenPermitIndex: the open permits (approved, active, suspended) of every site, indexed
// for the cross-work (SIMOPS) check. Per site, a uniform grid of cells (default 50 m)
// holds each permit under every cell its fence (or point) touches, so a check visits only
// the permits near the new one; time windows are tested after. With 1,000 open permits on
// a site a full check stays far under a millisecond, and 100,000 across a province costs
// no more per check than the busiest site does.
//
// Thread-safety: const methods may run concurrently; writers need external exclusion
// (the service holds a shared_mutex).

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wg/permit/check.h"
#include "wg/permit/model.h"
#include "wg/permit/rulebook.h"

namespace wg::permit {

// What the conflict check needs of an open permit (a compact copy of the document).
struct OpenPermit {
  std::int64_t id = 0;
  std::string number;
  std::string org;
  std::string site;
  PermitType type = PermitType::kHotWork;
  std::string grade;
  State state = State::kApproved;
  std::string zone;
  std::string area_class;
  Point point;
  double elevation_m = 0;
  std::vector<Point> fence;
  core::Timestamp start;  // planned window
  core::Timestamp end;
  std::vector<std::string> activities;  // tags (the permit's, plus the type's implied ones)
  std::string pipeline;    // blind plate
  std::string space;       // confined space name
  bool protective_layer = false;
  std::vector<std::string> approvers;   // usernames that signed the approval step
  std::vector<std::string> guardians;   // usernames of guardians

  static OpenPermit From(const Permit& p);
};

class OpenPermitIndex {
 public:
  explicit OpenPermitIndex(double cell_m = 50.0);
  ~OpenPermitIndex();
  OpenPermitIndex(OpenPermitIndex&&) noexcept;
  OpenPermitIndex& operator=(OpenPermitIndex&&) noexcept;

  // Inserts or replaces (by org + id). Removes when the state is no longer open.
  void Upsert(const OpenPermit& p);
  void Remove(std::string_view org, std::int64_t id);
  std::size_t size() const;
  const OpenPermit* Find(std::string_view org, std::int64_t id) const;
  const OpenPermit* FindByNumber(std::string_view org, std::string_view number) const;

  // Open permits of org/site whose fence/point lies within `radius_m` of the candidate's
  // fence/point and whose window overlaps the candidate's [start, end). The candidate's own
  // entry (same id, when it is open itself) is excluded.
  std::vector<const OpenPermit*> Near(std::string_view org, std::string_view site,
                                      const OpenPermit& candidate, double radius_m) const;

  // Counts for the workload checks: open permits `username` approved / guards in org.
  int OpenApprovedBy(std::string_view org, std::string_view username) const;
  int OpenGuardedBy(std::string_view org, std::string_view username,
                    std::int64_t exclude_id = 0) const;

  // Every conflict between `candidate` and the open permits, per the matrix.
  // Each violation names the conflict rule and the other permit (`related`).
  std::vector<Violation> Conflicts(const PermitRulebook& book, const OpenPermit& candidate,
                                   std::size_t* examined = nullptr) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wg::permit
