#include "cert_index.h"

#include <sys/mman.h>

#include <climits>
#include <utility>

namespace wg::registry {
namespace {

constexpr std::int32_t kNoDate = INT32_MIN;

std::uint64_t Mix(std::uint64_t x) {
  // splitmix64 finaliser: spreads sequential ids over the table.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::int32_t DateOr(const std::optional<core::Date>& d) { return d ? d->days : kNoDate; }
std::optional<core::Date> OptDate(std::int32_t d) {
  return d == kNoDate ? std::nullopt : std::optional<core::Date>(core::Date{d});
}

// Asks the kernel to back a large, not yet touched array with 2 MiB pages. At tens of
// millions of records a lookup's three random reads otherwise also miss the TLB; with
// transparent huge pages in "madvise" mode (Debian's default) this halves the tail latency.
// Advice only: failure is harmless.
template <typename T>
void AdviseHugePages(const std::vector<T>& v) {
  constexpr std::uintptr_t kHuge = 2u << 20;
  auto begin = reinterpret_cast<std::uintptr_t>(v.data());
  auto end = begin + v.capacity() * sizeof(T);
  std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  if (end > first + kHuge) {
    (void)madvise(reinterpret_cast<void*>(first), (end - first) & ~(kHuge - 1), MADV_HUGEPAGE);
  }
}

}  // namespace

void CertIndex::Reserve(std::size_t workers, std::size_t certs) {
  certs_.reserve(certs);
  AdviseHugePages(certs_);
  std::size_t want = 16;
  while (want < workers * 2) want <<= 1;
  if (want > table_.size()) Rehash(want);
}

void CertIndex::Rehash(std::size_t capacity) {
  std::vector<WorkerRec> fresh;
  fresh.reserve(capacity);
  AdviseHugePages(fresh);
  fresh.assign(capacity, WorkerRec{0, 0, kNil, 0});
  std::swap(table_, fresh);
  mask_ = capacity - 1;
  for (const WorkerRec& w : fresh) {
    if (w.id != 0) *InsertNew(w.id) = w;
  }
}

const CertIndex::WorkerRec* CertIndex::Find(std::int64_t worker) const {
  if (table_.empty() || worker == 0) return nullptr;
  std::uint64_t h = Mix(static_cast<std::uint64_t>(worker)) & mask_;
  while (true) {
    const WorkerRec& w = table_[h];
    if (w.id == worker) return &w;
    if (w.id == 0) return nullptr;
    h = (h + 1) & mask_;
  }
}

CertIndex::WorkerRec* CertIndex::Find(std::int64_t worker) {
  return const_cast<WorkerRec*>(std::as_const(*this).Find(worker));
}

CertIndex::WorkerRec* CertIndex::InsertNew(std::int64_t worker) {
  std::uint64_t h = Mix(static_cast<std::uint64_t>(worker)) & mask_;
  while (table_[h].id != 0) h = (h + 1) & mask_;
  table_[h].id = worker;
  return &table_[h];
}

void CertIndex::UpsertWorker(const domain::Worker& w) {
  if (WorkerRec* rec = Find(w.id.value)) {
    rec->org_id = w.org_id.value;
    rec->status = static_cast<std::uint8_t>(w.status);
    return;
  }
  // Keep the load factor at or below one half.
  if ((worker_count_ + 1) * 2 > table_.size()) Rehash(table_.empty() ? 1024 : table_.size() * 2);
  WorkerRec* rec = InsertNew(w.id.value);
  *rec = WorkerRec{w.id.value, w.org_id.value, kNil, static_cast<std::uint8_t>(w.status)};
  ++worker_count_;
}

std::uint16_t CertIndex::Intern(std::string_view s) {
  auto it = string_ids_.find(std::string(s));
  if (it != string_ids_.end()) return it->second;
  // 65,535 distinct category/item codes is far beyond any catalog; past it, codes share
  // the empty string and simply never match a requirement.
  if (strings_.size() >= 0xFFFF) return 0;
  auto id = static_cast<std::uint16_t>(strings_.size());
  strings_.emplace_back(s);
  string_ids_.emplace(std::string(s), id);
  return id;
}

void CertIndex::Fill(CertRec* r, const domain::Certificate& c) {
  r->id = c.id.value;
  r->issue = c.issue_date.days;
  r->expiry = c.expiry_date.days;
  r->last_review = DateOr(c.last_review_date);
  r->practice_since = DateOr(c.practice_since);
  r->category = Intern(c.category);
  r->item = Intern(c.item);
  r->kind = static_cast<std::uint8_t>(c.kind);
  r->status = static_cast<std::uint8_t>(c.status);
  r->flags = c.review_extension_granted ? 1 : 0;
  r->violations = static_cast<std::uint8_t>(std::min(c.violations, 255));
  std::string_view number = std::string_view(c.number).substr(0, 0xFFFF);
  std::string_view current(arena_.data() + r->number_off, r->number_len);
  if (r->number_len == number.size() && current == number) return;
  r->number_off = static_cast<std::uint32_t>(arena_.size());
  r->number_len = static_cast<std::uint16_t>(number.size());
  arena_.append(number);
}

bool CertIndex::UpsertCertificate(const domain::Certificate& c) {
  WorkerRec* w = Find(c.worker_id.value);
  if (w == nullptr) return false;
  for (std::uint32_t i = w->first_cert; i != kNil; i = certs_[i].next) {
    if (certs_[i].id == c.id.value) {
      Fill(&certs_[i], c);
      return true;
    }
  }
  CertRec r{};
  r.number_len = 0;
  r.number_off = 0;
  Fill(&r, c);
  r.next = w->first_cert;
  certs_.push_back(r);
  w->first_cert = static_cast<std::uint32_t>(certs_.size() - 1);
  ++live_certs_;
  return true;
}

CertFacts CertIndex::Facts(const CertRec& r) const {
  CertFacts f;
  f.id = r.id;
  f.kind = static_cast<domain::CertKind>(r.kind);
  f.category = strings_[r.category];
  f.item = strings_[r.item];
  f.number = std::string_view(arena_.data() + r.number_off, r.number_len);
  f.issue_date = core::Date{r.issue};
  f.expiry_date = core::Date{r.expiry};
  f.last_review_date = OptDate(r.last_review);
  f.practice_since = OptDate(r.practice_since);
  f.review_extension_granted = (r.flags & 1) != 0;
  f.violations = r.violations;
  f.status = static_cast<domain::CertStatus>(r.status);
  return f;
}

bool CertIndex::Gather(std::int64_t org, std::int64_t worker, WorkerView* view,
                       std::vector<CertFacts>* certs) const {
  certs->clear();
  const WorkerRec* found = Find(worker);
  if (found == nullptr || found->org_id != org) return false;
  const WorkerRec& rec = *found;
  view->id = rec.id;
  view->org_id = rec.org_id;
  view->status = static_cast<domain::WorkerStatus>(rec.status);
  for (std::uint32_t i = rec.first_cert; i != kNil; i = certs_[i].next) {
    certs->push_back(Facts(certs_[i]));
  }
  return true;
}

void CertIndex::ForEach(std::int64_t org_or_zero,
                        const std::function<void(const WorkerView&, const CertFacts&)>& fn) const {
  for (const auto& w : table_) {
    if (w.id == 0 || (org_or_zero != 0 && w.org_id != org_or_zero)) continue;
    WorkerView v{w.id, w.org_id, static_cast<domain::WorkerStatus>(w.status)};
    for (std::uint32_t i = w.first_cert; i != kNil; i = certs_[i].next) fn(v, Facts(certs_[i]));
  }
}

}  // namespace wg::registry
