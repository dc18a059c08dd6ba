#pragma once
// The printable permit (作业票): an HTML page and a PDF (cairo, WenQuanYi Micro Hei for
// CJK) laid out after GB 30871-2022 Appendix A — the type's title, the grade marked
// visibly (B.1), number, units, place, window, hazards, measures with confirmers, gas
// analyses, people with certificate numbers, linked permits, the signature chain with
// each signer, time and a short digest of their SM2 signature, state, and a QR code that
// opens the permit's verification page. Deterministic output for a given input.

#include <string>
#include <vector>

#include "wg/core/status.h"
#include "wg/permit/model.h"
#include "wg/permit/rulebook.h"

namespace wg::permit {

struct PrintOptions {
  // The text in the QR code: the verification URL
  // "<base>/permits/verify?org=<org>&n=<number>&d=<first 16 hex of the digest>".
  std::string verify_url;
  std::string org_name;         // printed in the header
  std::string site_name;
  std::string language = "zh";  // "zh" or "en" labels (the document keeps its own text)
  // Shown in the footer: "printed at".
  core::Timestamp printed_at;
  // Signature verification results, in the order of permit.signatures (true = valid);
  // empty: not shown.
  std::vector<bool> signature_valid;
  // PDF only: the fontconfig family used for all text. It must cover CJK; the default
  // comes from the Debian package fonts-wqy-microhei. When fontconfig cannot resolve the
  // family (it would silently substitute another font), RenderPdf fails with
  // kFailedPrecondition instead of printing empty boxes.
  std::string font_family = "WenQuanYi Micro Hei";
};

// A complete HTML5 document (UTF-8, inline CSS, inline SVG QR; no external resources),
// every text field HTML-escaped.
core::Result<std::string> RenderHtml(const PermitRulebook& book, const Permit& permit,
                                     const PrintOptions& options);
// A PDF (A4 portrait, one or more pages). kFailedPrecondition when the CJK font is not
// installed (fonts-wqy-microhei).
core::Result<std::string> RenderPdf(const PermitRulebook& book, const Permit& permit,
                                    const PrintOptions& options);

// The QR code for `text` as an SVG element string (module size `scale` px).
core::Result<std::string> QrSvg(const std::string& text, int scale = 4);

}  // namespace wg::permit
