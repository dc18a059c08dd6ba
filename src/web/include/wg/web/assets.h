#pragma once
// The browser application's files (web/, docs in web/README.md): compiled into the binary,
// or read from a directory (`--web-root`, for development and for sites that restyle it).
//
// URL mapping: "/" and "/index.html" -> index.html; "/favicon.ico" -> favicon.svg;
// "/assets/<rel>" -> <rel> under the
// root (web/js/core.js is /assets/js/core.js). Everything else is not an asset (the API
// answers it). A <rel> is 1..256 bytes of [A-Za-z0-9._/-], no empty, "." or ".." segment,
// no leading dot in a segment; anything else is kNotFound, never a file outside the root.
//
// Thread-safe after construction: the embedded table and its ETags are built once.

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "wg/core/status.h"

namespace wg::web {

struct Asset {
  std::string_view body;            // valid while `owned` (disk) or the program (embedded)
  std::shared_ptr<const std::string> owned;
  std::string_view content_type;    // "text/javascript; charset=utf-8", ...
  std::string etag;                 // "\"<16 hex of SHA-256>\""
  bool html = false;                // the page itself (gets the Content-Security-Policy)
};

// The Content-Security-Policy of the page: nothing but its own origin (no CDN, no tiles,
// no inline script), images also from data:/blob: (canvas snapshots, the camera), inline
// style attributes (Leaflet and uPlot position elements with them).
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// "text/css; charset=utf-8" for "x.css", ...; "application/octet-stream" when unknown.
std::string_view ContentTypeFor(std::string_view path);

// Whether `url_path` is one the assets answer ("/", "/index.html", "/assets/...").
bool IsAssetPath(std::string_view url_path);

class AssetSource {
 public:
  // `root` empty: the embedded files. Else the directory to serve from; kNotFound when it
  // is not a directory with an index.html.
  static core::Result<std::unique_ptr<AssetSource>> Create(const std::string& root);

  // kNotFound (naming "path") for a path that is not an asset or has no file.
  core::Result<Asset> Find(std::string_view url_path) const;

  // Relative names and sizes of the embedded files (tests, the page-weight figure).
  static std::map<std::string, std::size_t> EmbeddedSizes();

 private:
  explicit AssetSource(std::string root);
  std::string root_;  // canonical absolute path, or "" for embedded
};

}  // namespace wg::web
