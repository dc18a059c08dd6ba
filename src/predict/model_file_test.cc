#include "wg/predict/model_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "wg/core/strings.h"
#include "wg/crypto/crypto.h"

namespace wg::predict {
namespace {

using core::Json;
using core::StatusCode;

ModelInfo Info(std::string name = "test-model") {
  ModelInfo info;
  info.name = std::move(name);
  info.created = "2026-11-29T08:00:00Z";
  info.training = {{"seed", 1}, {"rows", 1234}};
  info.evaluation = {{"recall", 0.8}};
  return info;
}

// Re-signs an edited document, so a test reaches the checks after the digest.
std::string Resign(Json doc) {
  doc.erase("digest");
  doc["digest"] = "sm3:" + core::ToHex(crypto::Sm3(core::DumpJson(doc)));
  return core::DumpJson(doc, 2);
}

Json Doc(const Predictor& m) {
  ModelInfo info = Info();
  auto text = SerializeModel(m, info);
  EXPECT_TRUE(text.has_value());
  return Json::parse(*text);
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("wg-model-file-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(ModelFile, RoundTripsEveryKind) {
  std::vector<std::unique_ptr<Predictor>> models;
  models.push_back(MakeStatic());
  models.push_back(MakeLinear(300));
  models.push_back(MakeHolt(0.4, 0.2));
  models.push_back(MakeKalman({{"q_a", 3e-5}, {"outlier_sigma", 7}}));
  for (auto& m : models) {
    m->set_horizon_s(720);
    WarningPolicy p;
    p.on_probability = 0.42;
    p.off_probability = 0.25;
    p.hold_s = 120;
    p.confirm = 2;
    m->set_policy(p);
    ModelInfo info = Info();
    auto text = SerializeModel(*m, info);
    ASSERT_TRUE(text.has_value()) << text.error().ToString();
    EXPECT_EQ(info.kind, m->kind());
    EXPECT_EQ(info.digest.rfind("sm3:", 0), 0u);
    EXPECT_EQ(info.digest.size(), 4u + 64u);

    auto loaded = ParseModel(*text);
    ASSERT_TRUE(loaded.has_value()) << m->kind() << ": " << loaded.error().ToString();
    const Predictor& back = *loaded->predictor;
    EXPECT_EQ(back.kind(), m->kind());
    EXPECT_EQ(back.Params(), m->Params());
    EXPECT_EQ(back.horizon_s(), 720);
    EXPECT_EQ(back.policy().on_probability, 0.42);
    EXPECT_EQ(back.policy().confirm, 2);
    EXPECT_EQ(loaded->info.name, "test-model");
    EXPECT_EQ(loaded->info.kind, m->kind());
    EXPECT_EQ(loaded->info.created, "2026-11-29T08:00:00Z");
    EXPECT_EQ(loaded->info.digest, info.digest);
    EXPECT_EQ(loaded->info.training, info.training);
    EXPECT_EQ(loaded->info.evaluation, info.evaluation);

    // The same forecasts.
    Threshold red;
    red.value = 20;
    auto s1 = m->NewState(red);
    auto s2 = back.NewState(red);
    for (int i = 0; i < 200; ++i) {
      const double t = 1.8e9 + 10 * i, v = 0.05 * i;
      const Forecast a = m->Update(*s1, t, v);
      const Forecast b = back.Update(*s2, t, v);
      ASSERT_EQ(a.probability, b.probability) << m->kind() << " " << i;
      ASSERT_EQ(a.tte_s, b.tte_s);
    }
  }
}

TEST(ModelFile, DigestIgnoresLayoutButNotContent) {
  auto m = MakeLinear(300);
  const Json doc = Doc(*m);
  // Compact or indented: the same document.
  EXPECT_TRUE(ParseModel(core::DumpJson(doc)).has_value());
  EXPECT_TRUE(ParseModel(core::DumpJson(doc, 4)).has_value());

  ModelInfo info = Info();
  std::string text = *SerializeModel(*m, info);
  const std::size_t pos = text.find("300");
  ASSERT_NE(pos, std::string::npos);
  text[pos] = '4';  // window_s 300 -> 400: one byte
  auto bad = ParseModel(text);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kCorruption);
  EXPECT_NE(bad.error().message().find("model file is corrupt: digest mismatch"),
            std::string::npos);

  Json no_digest = doc;
  no_digest.erase("digest");
  auto missing = ParseModel(core::DumpJson(no_digest));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().field(), "digest");
}

TEST(ModelFile, RefusesOtherFormatsAndVersions) {
  Json doc = Doc(*MakeHolt());
  doc["format"] = "workguard-predict-model/2";
  auto e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.error().message().find("model format 'workguard-predict-model/2' is not supported "
                                     "by this version (expected workguard-predict-model/1)"),
            std::string::npos)
      << e.error().message();

  // A later version is refused by its format even when the rest is unreadable to us.
  e = ParseModel(R"({"format": "workguard-predict-model/2", "whatever": true})");
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("not supported"), std::string::npos);

  doc.erase("format");
  e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "format");

  e = ParseModel("{\"format\": \"workguard-predict-model/1\", ");
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("not valid JSON"), std::string::npos);
  e = ParseModel("[1, 2]");
  ASSERT_FALSE(e.has_value());
}

TEST(ModelFile, RefusesUnknownMembersAndBadValuesNamingThem) {
  const Json good = Doc(*MakeLinear(300));

  Json doc = good;
  doc["comment"] = "hi";
  auto e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "comment");

  doc = good;
  doc["params"]["window_s"] = -5;
  e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.window_s");

  doc = good;
  doc["params"]["windows"] = 5;
  e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.windows");

  doc = good;
  doc["kind"] = "kalman";  // linear's params are not kalman's
  e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params.window_s");

  doc = good;
  doc["kind"] = "prophet";
  e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "kind");

  doc = good;
  doc["name"] = "bad name!";
  e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "name");

  doc = good;
  doc["horizon_s"] = 0;
  e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "horizon_s");

  doc = good;
  doc["created"] = "yesterday";
  e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "created");

  doc = good;
  doc["policy"]["on_probability"] = 2;
  e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());

  doc = good;
  doc["training"] = 3;
  e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "training");

  doc = good;
  doc.erase("params");
  e = ParseModel(Resign(doc));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "params");
}

TEST(ModelFile, SerializeChecksTheInfo) {
  auto m = MakeStatic();
  ModelInfo info = Info("no spaces please");
  auto e = SerializeModel(*m, info);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "name");
  info = Info(std::string(65, 'a'));
  EXPECT_FALSE(SerializeModel(*m, info).has_value());
  info = Info();
  info.created.clear();
  e = SerializeModel(*m, info);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field(), "created");
  info = Info();
  info.training = Json::array();
  EXPECT_FALSE(SerializeModel(*m, info).has_value());
}

TEST(ModelFile, SaveAndLoad) {
  TempDir dir;
  const auto path = dir.path() / "m.json";
  auto m = MakeKalman();
  ModelInfo info = Info();
  ASSERT_TRUE(SaveModel(*m, info, path, /*overwrite=*/false).ok());
  auto loaded = LoadModel(path);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ(loaded->info.digest, info.digest);

  // No overwrite: refused, the file is untouched.
  auto other = MakeStatic();
  ModelInfo info2 = Info("other");
  core::Status s = SaveModel(*other, info2, path, /*overwrite=*/false);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(LoadModel(path)->info.kind, "kalman");
  // Overwrite: replaced.
  ASSERT_TRUE(SaveModel(*other, info2, path, /*overwrite=*/true).ok());
  EXPECT_EQ(LoadModel(path)->info.kind, "static");
  // Nothing but the model file is left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(e.path().filename(), "m.json");
  }
  EXPECT_EQ(files, 1);

  auto missing = LoadModel(dir.path() / "nope.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);

  // Oversized files are refused before parsing.
  const auto big = dir.path() / "big.json";
  { std::ofstream(big) << "{"; }
  std::filesystem::resize_file(big, (64u << 20) + 1);
  auto huge = LoadModel(big);
  ASSERT_FALSE(huge.has_value());
  EXPECT_EQ(huge.error().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(huge.error().message().find("MiB"), std::string::npos);

  // Errors from a file name it.
  const auto corrupt = dir.path() / "corrupt.json";
  { std::ofstream(corrupt) << "not json"; }
  auto bad = LoadModel(corrupt);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("corrupt.json"), std::string::npos);
}

TEST(ModelFile, ResolveModelByNameOrPath) {
  for (const char* kind : {"static", "linear", "holt", "kalman"}) {
    auto r = ResolveModel(kind);
    ASSERT_TRUE(r.has_value()) << kind;
    EXPECT_EQ(r->predictor->kind(), kind);
    EXPECT_EQ(r->info.name, kind);
    EXPECT_EQ(r->info.kind, kind);
    EXPECT_EQ(r->predictor->horizon_s(), 15 * 60);
  }
  auto gbt = ResolveModel("gbt");
  ASSERT_FALSE(gbt.has_value());
  EXPECT_NE(gbt.error().message().find("model file"), std::string::npos);

  TempDir dir;
  const auto path = dir.path() / "holt-fast.json";
  auto m = MakeHolt(0.6, 0.3);
  ModelInfo info = Info("holt-fast");
  ASSERT_TRUE(SaveModel(*m, info, path).ok());
  auto r = ResolveModel(path.string());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->info.name, "holt-fast");
  EXPECT_EQ(r->predictor->Params()["alpha"], 0.6);

  EXPECT_FALSE(ResolveModel((dir.path() / "absent.json").string()).has_value());
  EXPECT_FALSE(ResolveModel("").has_value());
}

}  // namespace
}  // namespace wg::predict
