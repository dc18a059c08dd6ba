#include "wg/web/assets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace wg::web {
namespace {

namespace fs = std::filesystem;

TEST(WebAssets, EmbeddedApplicationAndVendoredLibraries) {
  auto src = AssetSource::Create("");
  ASSERT_TRUE(src.has_value());
  for (std::string_view path :
       {"/", "/index.html", "/assets/js/core.js", "/assets/js/main.js", "/assets/css/app.css",
        "/assets/vendor/leaflet/leaflet.js", "/assets/vendor/uplot/uPlot.iife.min.js",
        "/assets/vendor/jsqr/jsQR.js"}) {
    auto a = (*src)->Find(path);
    ASSERT_TRUE(a.has_value()) << path << ": " << a.error().ToString();
    EXPECT_FALSE(a->body.empty()) << path;
    EXPECT_EQ(a->etag.size(), 18u) << path;
  }
  auto page = (*src)->Find("/");
  EXPECT_TRUE(page->html);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_EQ((*src)->Find("/assets/js/core.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_FALSE((*src)->Find("/assets/js/core.js")->html);
  // The page never names another origin: no CDN, no tiles (the CSP would block them, and a
  // reference would be a broken feature).
  const std::string_view html = page->body;
  EXPECT_EQ(html.find("http://"), std::string_view::npos);
  EXPECT_EQ(html.find("https://"), std::string_view::npos);
  EXPECT_GT(AssetSource::EmbeddedSizes().count("vendor/leaflet/leaflet.css"), 0u);
  auto icon = (*src)->Find("/favicon.ico");
  ASSERT_TRUE(icon.has_value());
  EXPECT_EQ(icon->content_type, "image/svg+xml");
}

TEST(WebAssets, RefusesWhatIsNotAnAssetOrEscapesTheRoot) {
  auto src = AssetSource::Create("");
  ASSERT_TRUE(src.has_value());
  for (std::string_view path :
       {"/api/v1/me", "/metrics", "/assets/", "/assets/../CMakeLists.txt", "/assets/js/../x.js",
        "/assets/./index.html", "/assets//js/core.js", "/assets/.hidden", "/assets/js/%2e%2e",
        "/assets/js/core.js\\x", "/assets/no-such.js", "/index.htm", "/favicon.png"}) {
    auto a = (*src)->Find(path);
    ASSERT_FALSE(a.has_value()) << path;
    EXPECT_EQ(a.error().code(), core::StatusCode::kNotFound) << path;
  }
  EXPECT_FALSE((*src)->Find("/assets/" + std::string(300, 'a')).has_value());
  EXPECT_TRUE(IsAssetPath("/"));
  EXPECT_TRUE(IsAssetPath("/assets/x.js"));
  EXPECT_FALSE(IsAssetPath("/api/v1/me"));
  EXPECT_FALSE(IsAssetPath("/healthz"));
}

TEST(WebAssets, ContentTypes) {
  EXPECT_EQ(ContentTypeFor("a/b.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("x.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("x.png"), "image/png");
  EXPECT_EQ(ContentTypeFor("x.bin"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("x"), "application/octet-stream");
}

class DiskRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("wg-web-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(dir_ / "root" / "js");
    Write(dir_ / "root" / "index.html", "<!doctype html><title>t</title>");
    Write(dir_ / "root" / "js" / "a.js", "export const a = 1;\n");
    Write(dir_ / "secret.txt", "outside");
  }
  void TearDown() override { fs::remove_all(dir_); }
  static void Write(const fs::path& p, const std::string& s) {
    std::ofstream(p, std::ios::binary) << s;
  }
  fs::path dir_;
};

TEST_F(DiskRoot, ServesFilesAndSeesEditsWithNewEtags) {
  auto src = AssetSource::Create((dir_ / "root").string());
  ASSERT_TRUE(src.has_value()) << src.error().ToString();
  auto a = (*src)->Find("/assets/js/a.js");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->body, "export const a = 1;\n");
  const std::string before = a->etag;
  Write(dir_ / "root" / "js" / "a.js", "export const a = 2;\n");
  auto b = (*src)->Find("/assets/js/a.js");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->body, "export const a = 2;\n");
  EXPECT_NE(b->etag, before);
  EXPECT_TRUE((*src)->Find("/")->html);
}

TEST_F(DiskRoot, NeverLeavesTheRoot) {
  fs::create_symlink(dir_ / "secret.txt", dir_ / "root" / "js" / "link.txt");
  fs::create_directory_symlink(dir_, dir_ / "root" / "up");
  auto src = AssetSource::Create((dir_ / "root").string());
  ASSERT_TRUE(src.has_value());
  EXPECT_FALSE((*src)->Find("/assets/js/link.txt").has_value());
  EXPECT_FALSE((*src)->Find("/assets/up/secret.txt").has_value());
  EXPECT_FALSE((*src)->Find("/assets/../secret.txt").has_value());
  EXPECT_FALSE((*src)->Find("/assets/js").has_value()) << "a directory is not a file";
}

TEST_F(DiskRoot, RootMustBeADirectoryWithAPage) {
  EXPECT_FALSE(AssetSource::Create((dir_ / "nope").string()).has_value());
  EXPECT_FALSE(AssetSource::Create((dir_ / "secret.txt").string()).has_value());
  fs::create_directories(dir_ / "empty");
  auto r = AssetSource::Create((dir_ / "empty").string());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().field(), "web_root");
}

}  // namespace
}  // namespace wg::web
