// Certificate QR codes (docs/formats/qr-payload.md): a signed, pipe-separated payload and
// its PNG/SVG rendering via libqrencode. The payload is verifiable offline by anyone who
// holds the verification key and online through CheckQr, which also reports the
// certificate's current standing (a revoked certificate's old QR still has a valid
// signature but no longer verifies as "may work").

#include <qrencode.h>
#include <zlib.h>

#include <memory>

#include "wg/core/strings.h"
#include "wg/registry/registry.h"

namespace wg::registry {

using core::Result;
using core::Status;

namespace {

constexpr std::string_view kMagic = "WG1";
constexpr std::size_t kFieldCount = 15;

struct QrDeleter {
  void operator()(QRcode* q) const { QRcode_free(q); }
};
using QrPtr = std::unique_ptr<QRcode, QrDeleter>;

void PutBe32(std::string* out, std::uint32_t v) {
  out->push_back(static_cast<char>((v >> 24) & 0xFF));
  out->push_back(static_cast<char>((v >> 16) & 0xFF));
  out->push_back(static_cast<char>((v >> 8) & 0xFF));
  out->push_back(static_cast<char>(v & 0xFF));
}

void PngChunk(std::string* png, const char* type, const std::string& data) {
  PutBe32(png, static_cast<std::uint32_t>(data.size()));
  std::string body(type, 4);
  body += data;
  png->append(body);
  auto crc = crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  PutBe32(png, static_cast<std::uint32_t>(crc));
}

constexpr int kScale = 6;
constexpr int kBorder = 4;

Result<std::string> RenderPng(const QRcode& q) {
  const int modules = q.width + 2 * kBorder;
  const int px = modules * kScale;
  std::string raw;
  raw.reserve(static_cast<std::size_t>(px) * static_cast<std::size_t>(px + 1));
  for (int y = 0; y < px; ++y) {
    raw.push_back(0);  // filter: none
    int my = y / kScale - kBorder;
    for (int x = 0; x < px; ++x) {
      int mx = x / kScale - kBorder;
      bool dark = mx >= 0 && my >= 0 && mx < q.width && my < q.width &&
                  (q.data[my * q.width + mx] & 1);
      raw.push_back(dark ? static_cast<char>(0) : static_cast<char>(0xFF));
    }
  }
  uLongf bound = compressBound(static_cast<uLong>(raw.size()));
  std::string z(bound, '\0');
  if (compress2(reinterpret_cast<Bytef*>(z.data()), &bound,
                reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                9) != Z_OK) {
    return Status::Internal("zlib compression failed");
  }
  z.resize(bound);
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  PutBe32(&ihdr, static_cast<std::uint32_t>(px));
  PutBe32(&ihdr, static_cast<std::uint32_t>(px));
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit greyscale, no interlace
  PngChunk(&png, "IHDR", ihdr);
  PngChunk(&png, "IDAT", z);
  PngChunk(&png, "IEND", "");
  return png;
}

std::string RenderSvg(const QRcode& q) {
  const int modules = q.width + 2 * kBorder;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    std::to_string(modules) + " " + std::to_string(modules) +
                    "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" "
                    "fill=\"#fff\"/><path fill=\"#000\" d=\"";
  for (int y = 0; y < q.width; ++y) {
    for (int x = 0; x < q.width; ++x) {
      if (q.data[y * q.width + x] & 1) {
        svg += "M" + std::to_string(x + kBorder) + " " + std::to_string(y + kBorder) + "h1v1h-1z";
      }
    }
  }
  svg += "\"/></svg>";
  return svg;
}

}  // namespace

Result<CertificateQr> Registry::MakeQr(core::OrgId org, core::CertificateId id) {
  WG_ASSIGN_OR_RETURN(domain::Certificate c, store_.GetCertificate(org, id));
  WG_ASSIGN_OR_RETURN(domain::Worker w, store_.GetWorker(org, c.worker_id));
  WG_ASSIGN_OR_RETURN(evidence::OrgKey key, evidence_.EnsureKey(org));
  WG_ASSIGN_OR_RETURN(auto signer, evidence::QrSigner(key));
  std::string body;
  for (const std::string& f :
       {std::string(kMagic), std::string(signer->KeyId()),
        std::string(signer->Algorithm()), std::to_string(org.value),
        std::to_string(c.id.value), c.number, std::to_string(w.id.value), w.id_last4,
        std::string(domain::CertKindName(c.kind)), c.category, c.item,
        core::FormatDate(c.issue_date), core::FormatDate(c.expiry_date),
        core::FormatTimestamp(core::Timestamp::FromSeconds(clock_.Now().seconds()))}) {
    body += f;
    body += '|';
  }
  body.pop_back();
  WG_ASSIGN_OR_RETURN(std::string sig, signer->Sign(body));
  CertificateQr out;
  out.payload = body + "|" + core::Base64UrlEncode(sig);
  QrPtr q(QRcode_encodeString8bit(out.payload.c_str(), 0, QR_ECLEVEL_M));
  if (!q) return Status::Internal("QR encoding failed (payload of " + std::to_string(out.payload.size()) + " bytes)");
  WG_ASSIGN_OR_RETURN(out.png, RenderPng(*q));
  out.svg = RenderSvg(*q);
  return out;
}

Result<QrCheck> Registry::CheckQr(core::OrgId org, std::string_view payload,
                                  std::optional<std::string> operation) {
  if (payload.size() > 2048) {
    return Status::InvalidArgument("is longer than 2048 bytes", "payload");
  }
  QrCheck out;
  auto fields = core::Split(payload, '|');
  if (fields.size() != kFieldCount || fields[0] != kMagic) {
    out.detail = "not a workguard certificate QR payload (expected " +
                 std::to_string(kFieldCount) + " '|'-separated fields starting with WG1)";
    return out;
  }
  // Key id "<org code>/k<version>": any version of the caller's organization verifies
  // (a QR printed before a key rotation stays valid); only SM2 is accepted.
  WG_ASSIGN_OR_RETURN(std::string org_code, evidence_.OrgCode(org));
  const std::string prefix = org_code + "/k";
  if (fields[2] != "SM2" || fields[1].substr(0, std::min(fields[1].size(), prefix.size())) != prefix) {
    out.detail = "signed with key '" + std::string(fields[1]) + "' / " + std::string(fields[2]) +
                 "; this organization's QR codes are signed with SM2 keys '" + prefix + "<n>'";
    return out;
  }
  auto version = core::ParseInt(fields[1].substr(prefix.size()), 1, 10000, "key");
  if (!version) {
    out.detail = "malformed key id '" + std::string(fields[1]) + "'";
    return out;
  }
  auto key = evidence_.keys().Version(org_code, static_cast<int>(*version));
  if (!key) {
    if (key.error().code() != core::StatusCode::kNotFound) return key.error();
    out.detail = "unknown key '" + std::string(fields[1]) + "'";
    return out;
  }
  WG_ASSIGN_OR_RETURN(auto signer, evidence::QrSigner(*key));
  std::string_view body = payload.substr(0, payload.rfind('|'));
  auto sig = core::Base64UrlDecode(fields.back(), "signature");
  if (!sig) {
    out.detail = sig.error().message();
    return out;
  }
  Status verified = signer->Verify(body, *sig);
  if (!verified.ok()) {
    out.detail = "signature does not verify: " + verified.message();
    return out;
  }
  out.signature_valid = true;
  auto org_id = core::ParseInt(fields[3], 1, INT64_MAX, "org");
  auto cert_id = core::ParseInt(fields[4], 1, INT64_MAX, "certificate");
  auto worker_id = core::ParseInt(fields[6], 1, INT64_MAX, "worker");
  if (!org_id || !cert_id || !worker_id || *org_id != org.value) {
    out.detail = "certificate not found in your organization";
    return out;
  }
  auto cert = store_.GetCertificate(org, core::CertificateId{*cert_id});
  if (!cert) {
    if (cert.error().code() != core::StatusCode::kNotFound) return cert.error();
    out.detail = "certificate not found in your organization";
    return out;
  }
  if (cert->number != fields[5] || cert->worker_id.value != *worker_id) {
    out.detail = "payload does not match the registered certificate";
    return out;
  }
  // Without an operation, judge the certificate against the first operation it covers.
  auto covering_operation = [&]() -> std::string {
    for (const auto& rule : book_.operations()) {
      for (const auto& req : rule.any_of) {
        if (req.kind == cert->kind && req.category == cert->category &&
            (req.item.empty() || req.item == cert->item)) {
          return rule.code;
        }
      }
    }
    return {};
  };
  std::string op = operation && !operation->empty() ? *operation : covering_operation();
  if (op.empty()) {
    out.detail = "signature valid; no operation in the rulebook covers this certificate";
    return out;
  }
  WG_ASSIGN_OR_RETURN(Verification v, Verify(org, cert->worker_id, op));
  out.detail = v.may_work ? "signature valid; the holder may work" : "signature valid; the holder may NOT work";
  out.verification = std::move(v);
  return out;
}

}  // namespace wg::registry
