#include "azure/client.h"
#include "azure/redact.h"

#include <gtest/gtest.h>

namespace anf::azure {
namespace {

constexpr std::string_view kJwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

struct RedactCase {
  std::string name;
  std::string text;
  std::string secret;  // must not survive
  std::string kept;    // must survive
};

class Redact : public testing::TestWithParam<RedactCase> {};

TEST_P(Redact, RemovesSecretsKeepsContext) {
  const auto& c = GetParam();
  auto out = redact(c.text);
  EXPECT_EQ(out.find(c.secret), std::string::npos) << out;
  EXPECT_NE(out.find(c.kept), std::string::npos) << out;
  EXPECT_NE(out.find("[REDACTED]"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Redact,
    testing::Values(
        RedactCase{"Jwt", "token " + std::string(kJwt) + " used", "c2lnbmF0dXJl", "used"},
        RedactCase{"BearerHeader", "Authorization: Bearer abc.def-ghi", "abc.def-ghi", "Authorization"},
        RedactCase{"JsonAccessToken", R"({"token_type":"Bearer","access_token":"opaque-token-1"})", "opaque-token-1", "token_type"},
        RedactCase{"FormSecret", "grant_type=client_credentials&client_secret=s3cr3t&scope=x", "s3cr3t", "grant_type"},
        RedactCase{"FormAssertion", "client_assertion=abc123&client_id=c", "abc123", "client_id=c"},
        RedactCase{"IdentityHeader", "X-IDENTITY-HEADER: hdr-value-1", "hdr-value-1", "X-IDENTITY-HEADER"},
        RedactCase{"JsonClientSecret", R"({"clientSecret": "provider-admin-secret", "name": "admin"})", "provider-admin-secret", "admin"}),
    [](const auto& info) { return info.param.name; });

TEST(Redactor, RemovesKnownSecretsOfAnyShape) {
  Redactor redactor;
  redactor.add("provider-admin-secret");
  redactor.add("abc");  // too short to be worth hiding; must not mangle text
  auto out = redactor.apply("error: invalid secret provider-admin-secret for abc client");
  EXPECT_EQ(out, "error: invalid secret [REDACTED] for abc client");
}

}  // namespace
}  // namespace anf::azure
