#include "wg/evidence/fact.h"

#include "wg/core/strings.h"

namespace wg::evidence {

using core::Result;
using core::Status;

namespace {

constexpr std::string_view kMagic = "WGF1";
constexpr std::size_t kMaxField = 256;         // org, site, kind, actor, subject
constexpr std::size_t kMaxPayload = 1u << 20;  // matches store::ValidateFactDraft

void PutU32(std::string* out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xFF));
}
void PutU64(std::string* out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xFF));
}
void PutField(std::string* out, std::string_view s) {
  PutU32(out, static_cast<std::uint32_t>(s.size()));
  out->append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  Result<std::uint64_t> U64(std::string_view field) {
    if (b_.size() - pos_ < 8) return Status::InvalidArgument("truncated", std::string(field));
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(b_[pos_++]);
    return v;
  }
  Result<std::string> Field(std::string_view field, std::size_t max) {
    if (b_.size() - pos_ < 4) return Status::InvalidArgument("truncated length", std::string(field));
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<std::uint8_t>(b_[pos_++]);
    if (n > max) {
      return Status::InvalidArgument("length " + std::to_string(n) + " exceeds " +
                                         std::to_string(max),
                                     std::string(field));
    }
    if (b_.size() - pos_ < n) return Status::InvalidArgument("truncated", std::string(field));
    std::string s(b_.substr(pos_, n));
    pos_ += n;
    if (!core::IsValidUtf8(s)) return Status::InvalidArgument("is not valid UTF-8", std::string(field));
    return s;
  }
  bool done() const { return pos_ == b_.size(); }
  std::size_t remaining() const { return b_.size() - pos_; }
  void Skip(std::size_t n) { pos_ += n; }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

Status CheckNoFloats(const core::Json& j, const std::string& path) {
  if (j.is_number_float()) return Status::InvalidArgument("floats are not allowed in facts", path);
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      WG_RETURN_IF_ERROR(CheckNoFloats(it.value(), path + "." + it.key()));
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      WG_RETURN_IF_ERROR(CheckNoFloats(j[i], path + "[" + std::to_string(i) + "]"));
    }
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeFact(const Fact& f) {
  std::string out;
  out.reserve(4 + 16 + 6 * 4 + f.org.size() + f.site.size() + f.kind.size() + f.actor.size() +
              f.subject.size() + f.payload.size());
  out.append(kMagic);
  PutU64(&out, f.seq);
  PutU64(&out, static_cast<std::uint64_t>(f.time.micros));
  PutField(&out, f.org);
  PutField(&out, f.site);
  PutField(&out, f.kind);
  PutField(&out, f.actor);
  PutField(&out, f.subject);
  PutField(&out, f.payload);
  return out;
}

Result<Fact> DecodeFact(std::string_view bytes) {
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic) {
    return Status::InvalidArgument("does not start with \"WGF1\"", "fact.magic");
  }
  Reader r(bytes);
  r.Skip(kMagic.size());
  Fact f;
  WG_ASSIGN_OR_RETURN(f.seq, r.U64("fact.seq"));
  WG_ASSIGN_OR_RETURN(std::uint64_t t, r.U64("fact.time"));
  f.time.micros = static_cast<std::int64_t>(t);
  WG_ASSIGN_OR_RETURN(f.org, r.Field("fact.org", kMaxField));
  WG_ASSIGN_OR_RETURN(f.site, r.Field("fact.site", kMaxField));
  WG_ASSIGN_OR_RETURN(f.kind, r.Field("fact.kind", kMaxField));
  WG_ASSIGN_OR_RETURN(f.actor, r.Field("fact.actor", kMaxField));
  WG_ASSIGN_OR_RETURN(f.subject, r.Field("fact.subject", kMaxField));
  WG_ASSIGN_OR_RETURN(f.payload, r.Field("fact.payload", kMaxPayload));
  if (!r.done()) {
    return Status::InvalidArgument(std::to_string(r.remaining()) + " trailing bytes", "fact");
  }
  if (f.org.empty()) return Status::InvalidArgument("is empty", "fact.org");
  if (f.kind.empty()) return Status::InvalidArgument("is empty", "fact.kind");
  return f;
}

Fact FromStored(const store::StoredFact& s, std::string_view org_code) {
  Fact f;
  f.seq = static_cast<std::uint64_t>(s.seq);
  f.time = s.time;
  f.org = std::string(org_code);
  f.site = s.site;
  f.kind = s.kind;
  f.actor = s.actor;
  f.subject = s.subject;
  f.payload = s.payload;
  return f;
}

core::Json FactToJson(const Fact& f) {
  core::Json j = {{"seq", f.seq},         {"time", core::FormatTimestamp(f.time)},
                  {"org", f.org},         {"site", f.site},
                  {"kind", f.kind},       {"actor", f.actor},
                  {"subject", f.subject}};
  auto payload = core::ParseJson(f.payload, {.max_bytes = kMaxPayload + 1, .max_depth = 64},
                                 "payload");
  if (payload.has_value()) {
    j["payload"] = *payload;
  } else {
    j["payload_text"] = f.payload;
  }
  return j;
}

Result<std::string> CanonicalJson(const core::Json& j) {
  WG_RETURN_IF_ERROR(CheckNoFloats(j, "payload"));
  // nlohmann::json keeps object members in a std::map (sorted by key bytes) and dumps
  // compactly; strict UTF-8 handling throws, so invalid text is rejected here.
  try {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("cannot serialise: ") + e.what(), "payload");
  }
}

std::string CertificateSubject(std::string_view cert_kind, std::string_view number) {
  return "cert:" + std::string(cert_kind) + "/" + std::string(number);
}

std::string WorkerSubject(std::string_view worker_code) {
  return "worker:" + std::string(worker_code);
}

Result<store::FactDraft> OrgCreatedFact(const store::NewOrganization& o, const std::string& actor) {
  WG_ASSIGN_OR_RETURN(std::string payload, CanonicalJson({{"code", o.code}, {"name", o.name}}));
  return store::FactDraft{.kind = "org.created", .actor = actor, .subject = "org:" + o.code,
                          .site = "", .payload = std::move(payload)};
}

Result<store::FactDraft> SiteCreatedFact(const store::NewSite& s, const std::string& actor) {
  WG_ASSIGN_OR_RETURN(std::string payload,
                      CanonicalJson({{"code", s.code}, {"name", s.name}, {"address", s.address}}));
  return store::FactDraft{.kind = "site.created", .actor = actor, .subject = "site:" + s.code,
                          .site = s.code, .payload = std::move(payload)};
}

Result<store::FactDraft> UserCreatedFact(const domain::User& u, const std::string& actor) {
  WG_ASSIGN_OR_RETURN(std::string payload,
                      CanonicalJson({{"username", u.username},
                                     {"display_name", u.display_name},
                                     {"role", domain::RoleName(u.role)},
                                     {"active", u.active}}));
  return store::FactDraft{.kind = "user.created", .actor = actor,
                          .subject = "user:" + u.username, .site = "",
                          .payload = std::move(payload)};
}

}  // namespace wg::evidence
