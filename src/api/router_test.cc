#include "router.h"

#include <gtest/gtest.h>

namespace wg::api {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    get_cert_ = router_.Add(Method::kGet, "/api/v1/certificates/{id}");
    import_ = router_.Add(Method::kPost, "/api/v1/certificates/import");
    expiring_ = router_.Add(Method::kGet, "/api/v1/certificates/expiring");
    revoke_ = router_.Add(Method::kPost, "/api/v1/certificates/{id}/revoke");
    get_worker_ = router_.Add(Method::kGet, "/api/v1/workers/{id}");
    put_status_ = router_.Add(Method::kPut, "/api/v1/workers/{id}/status");
    list_ = router_.Add(Method::kGet, "/api/v1/workers");
    create_ = router_.Add(Method::kPost, "/api/v1/workers");
  }
  Router router_;
  std::size_t get_cert_, import_, expiring_, revoke_, get_worker_, put_status_, list_, create_;
};

TEST_F(RouterTest, MatchesLiteralAndParameterRoutes) {
  RouteMatch m = router_.Match(Method::kGet, "/api/v1/workers");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.index, list_);
  EXPECT_TRUE(m.param.empty());

  m = router_.Match(Method::kPost, "/api/v1/workers");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.index, create_);

  m = router_.Match(Method::kGet, "/api/v1/workers/42");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.index, get_worker_);
  EXPECT_EQ(m.param, "42");

  m = router_.Match(Method::kPost, "/api/v1/certificates/7/revoke");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.index, revoke_);
  EXPECT_EQ(m.param, "7");
}

TEST_F(RouterTest, ParameterSegmentIsCapturedVerbatimForTheCallerToValidate) {
  RouteMatch m = router_.Match(Method::kGet, "/api/v1/workers/abc");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.param, "abc");
  m = router_.Match(Method::kGet, "/api/v1/workers/-1");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.param, "-1");
}

TEST_F(RouterTest, LiteralSegmentWinsOverParameter) {
  RouteMatch m = router_.Match(Method::kGet, "/api/v1/certificates/expiring");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.index, expiring_);
  // "import" exists only as POST: a GET is 405, not a GET of certificate "import".
  m = router_.Match(Method::kGet, "/api/v1/certificates/import");
  EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "POST");
}

TEST_F(RouterTest, WrongMethodListsTheAllowedOnes) {
  RouteMatch m = router_.Match(Method::kDelete, "/api/v1/workers");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, POST");
  m = router_.Match(Method::kPost, "/api/v1/workers/3/status");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "PUT");
}

TEST_F(RouterTest, HeadIsMatchedAsGet) {
  RouteMatch m = router_.Match(Method::kHead, "/api/v1/workers/9");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.index, get_worker_);
}

TEST_F(RouterTest, UnknownAndMalformedPathsAreNotFound) {
  for (const char* p : {"/api/v1/nothing", "/api/v1/workers/", "/api/v1//workers", "",
                        "api/v1/workers", "/api/v1/workers/1/2/3", "/"}) {
    EXPECT_EQ(router_.Match(Method::kGet, p).kind, RouteMatch::Kind::kNotFound) << p;
  }
}

TEST_F(RouterTest, DescribeListsMethodAndPattern) {
  auto routes = router_.Describe();
  ASSERT_EQ(routes.size(), router_.size());
  EXPECT_EQ(routes[get_cert_], "GET /api/v1/certificates/{id}");
  EXPECT_EQ(routes[put_status_], "PUT /api/v1/workers/{id}/status");
}

TEST(MethodTest, RoundTrips) {
  for (Method m : {Method::kGet, Method::kHead, Method::kPost, Method::kPut, Method::kPatch,
                   Method::kDelete, Method::kOptions}) {
    EXPECT_EQ(ParseMethod(MethodName(m)), m);
  }
  EXPECT_EQ(ParseMethod("get"), Method::kOther);  // methods are case-sensitive
  EXPECT_EQ(ParseMethod("TRACE"), Method::kOther);
}

}  // namespace
}  // namespace wg::api
