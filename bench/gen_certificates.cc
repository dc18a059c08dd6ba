// gen_certificates: writes a synthetic but rule-valid certificate CSV
// (docs/formats/certificate-csv.md) for the scale benchmarks.
//
//   gen_certificates --workers 20000000 --certs 30000000 --out certs.csv [--seed 1]
//                    [--today 2026-11-28]
//
// Every worker gets one certificate; the first (certs - workers) workers get a second
// one of another category. Issue dates spread over the six years before --today, so the
// rows exercise every verdict (valid, review due, overdue, renewal due). National IDs are
// well-formed (GB 11643 check character) and unique per worker. Deterministic for a seed.

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "wg/core/time.h"
#include "wg/registry/id_number.h"

namespace {

struct Kind {
  const char* kind;
  const char* category;
  const char* item;
};

constexpr Kind kKinds[] = {
    {"special_operation", "welding", "fusion_welding"},
    {"special_operation", "electrical", "low_voltage"},
    {"special_operation", "electrical", "high_voltage"},
    {"special_equipment", "lifting_machinery", "Q2"},
    {"special_equipment", "lifting_machinery", "Q1"},
    {"special_operation", "hazardous_chemicals", "hydrogenation"},
    {"special_operation", "height", "scaffolding"},
    {"special_equipment", "site_vehicle", "N1"},
};
constexpr const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴"};
constexpr const char* kGiven[] = {"伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "勇", "军"};
constexpr const char* kAreas[] = {"320102", "320105", "330106", "370102", "440305", "510104"};

std::int64_t Arg(int argc, char** argv, const char* name, std::int64_t def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::strtoll(argv[i + 1], nullptr, 10);
  }
  return def;
}

const char* StrArg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t workers = Arg(argc, argv, "--workers", 1000);
  std::int64_t certs = Arg(argc, argv, "--certs", 1500);
  std::uint64_t seed = static_cast<std::uint64_t>(Arg(argc, argv, "--seed", 1));
  const char* out_path = StrArg(argc, argv, "--out", nullptr);
  auto today = wg::core::ParseDate(StrArg(argc, argv, "--today", "2026-11-28"));
  if (!out_path || workers <= 0 || certs < workers || certs > 2 * workers || !today) {
    std::fprintf(stderr,
                 "usage: gen_certificates --workers N --certs M --out FILE [--seed S] "
                 "[--today YYYY-MM-DD]\n  (N <= M <= 2N)\n");
    return 2;
  }
  std::FILE* out = std::fopen(out_path, "wb");
  if (!out) {
    std::perror(out_path);
    return 2;
  }
  std::setvbuf(out, nullptr, _IOFBF, 1 << 22);
  std::fputs(
      "worker_code,worker_name,national_id,employer,phone,cert_kind,category,item,cert_number,"
      "authority,issue_date,expiry_date,last_review_date,practice_since,"
      "review_extension_granted,violations,status,status_reason\n",
      out);
  std::mt19937_64 rng(seed);
  const std::int64_t extra = certs - workers;
  const wg::core::Date birth0 = wg::core::Date::FromYmd(1958, 1, 1);
  std::int64_t cert_seq = 0;
  char line[512];
  for (std::int64_t w = 0; w < workers; ++w) {
    // Unique ID: area + birth date + 3-digit sequence, unique by (birth, seq) per worker.
    // 17,000 birth days x 1,000 sequence numbers per area: unique up to 102 M workers.
    const char* area = kAreas[static_cast<std::size_t>(w / 17'000'000) % std::size(kAreas)];
    wg::core::Date birth = birth0.AddDays(static_cast<std::int32_t>((w / 1000) % 17000));
    char first17[18];
    std::snprintf(first17, sizeof first17, "%s%04d%02u%02u%03d", area, birth.year(), birth.month(),
                  birth.day(), static_cast<int>(w % 1000));
    std::string id = std::string(first17) + wg::registry::ResidentIdCheckChar(first17);
    std::string name = std::string(kSurnames[rng() % 10]) + kGiven[rng() % 10] + kGiven[rng() % 10];
    int n_certs = w < extra ? 2 : 1;
    for (int k = 0; k < n_certs; ++k) {
      const Kind& kind = kKinds[(static_cast<std::size_t>(w) + static_cast<std::size_t>(k) * 3) % std::size(kKinds)];
      bool se = kind.kind[8] == 'e';  // special_equipment
      int span_days = se ? 4 * 365 - 2 : 6 * 365 - 2;
      wg::core::Date issue = today->AddDays(-static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(span_days)));
      std::string review;
      // Most holders passed their 3-year review inside the window.
      if (!se && wg::core::DaysBetween(issue, *today) > 3 * 365 && rng() % 10 != 0) {
        review = wg::core::FormatDate(issue.AddYears(3).AddDays(-static_cast<std::int32_t>(rng() % 50) - 1));
      }
      std::snprintf(line, sizeof line,
                    "W%09" PRId64 ",%s,%s,华东检修%02d公司,13%09" PRIu64
                    ",%s,%s,%s,%s%012" PRId64 ",南京市%s,%s,,%s,,,,,\n",
                    w + 1, name.c_str(), id.c_str(), static_cast<int>(w % 50),
                    static_cast<std::uint64_t>(rng() % 1000000000ULL), kind.kind, kind.category, kind.item,
                    se ? "TS" : "T", ++cert_seq, se ? "市场监督管理局" : "应急管理局",
                    wg::core::FormatDate(issue).c_str(), review.c_str());
      std::fputs(line, out);
    }
  }
  if (std::fclose(out) != 0) {
    std::perror(out_path);
    return 2;
  }
  std::fprintf(stderr, "wrote %" PRId64 " certificates for %" PRId64 " workers to %s\n", cert_seq,
               workers, out_path);
  return 0;
}
