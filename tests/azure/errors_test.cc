#include "azure/errors.h"

#include <gtest/gtest.h>

namespace anf::azure {
namespace {

struct ClassifyCase {
  std::string name;
  int status;
  std::string code;
  TransportFailure transport;
  bool grantPropagating;
  ErrorClass want;
};

class Classify : public testing::TestWithParam<ClassifyCase> {};

TEST_P(Classify, DecidesRetryOnce) {
  const auto& c = GetParam();
  AzureError error{.httpStatus = c.status, .code = c.code, .transport = c.transport};
  EXPECT_EQ(classify(error, {.grantPropagating = c.grantPropagating}), c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, Classify,
    testing::Values(
        ClassifyCase{"Throttled", 429, "TooManyRequests", TransportFailure::None, false, ErrorClass::Retryable},
        ClassifyCase{"ServiceUnavailable", 503, "ServiceUnavailable", TransportFailure::None, false, ErrorClass::Retryable},
        ClassifyCase{"InternalServerError", 500, "InternalServerError", TransportFailure::None, false, ErrorClass::Retryable},
        ClassifyCase{"GatewayTimeout", 504, "GatewayTimeout", TransportFailure::None, false, ErrorClass::Retryable},
        ClassifyCase{"Timeout", 0, "Timeout", TransportFailure::Timeout, false, ErrorClass::Retryable},
        ClassifyCase{"ConnectionReset", 0, "ConnectionLost", TransportFailure::ConnectionLost, false, ErrorClass::Retryable},
        ClassifyCase{"ConnectRefused", 0, "ConnectFailed", TransportFailure::ConnectFailed, false, ErrorClass::Retryable},
        ClassifyCase{"BadCertificate", 0, "TlsHandshakeFailed", TransportFailure::ConnectFailed, false, ErrorClass::Terminal},
        ClassifyCase{"AnotherOperation", 409, "AnotherOperationInProgress", TransportFailure::None, false, ErrorClass::Retryable},
        ClassifyCase{"AuthorizationFailedWithoutGrant", 403, "AuthorizationFailed", TransportFailure::None, false, ErrorClass::Terminal},
        ClassifyCase{"AuthorizationFailedAfterGrant", 403, "AuthorizationFailed", TransportFailure::None, true, ErrorClass::Retryable},
        ClassifyCase{"LinkedAuthorizationFailedAfterGrant", 403, "LinkedAuthorizationFailed", TransportFailure::None, true, ErrorClass::Retryable},
        ClassifyCase{"PrincipalNotFoundAfterGrant", 400, "PrincipalNotFound", TransportFailure::None, true, ErrorClass::Retryable},
        ClassifyCase{"PrincipalNotFoundWithoutGrant", 400, "PrincipalNotFound", TransportFailure::None, false, ErrorClass::Terminal},
        ClassifyCase{"NotFound", 404, "ResourceNotFound", TransportFailure::None, true, ErrorClass::Terminal},
        ClassifyCase{"InvalidParameter", 400, "InvalidParameter", TransportFailure::None, false, ErrorClass::Terminal},
        ClassifyCase{"WrongTenant", 401, "InvalidAuthenticationTokenTenant", TransportFailure::None, false, ErrorClass::Terminal},
        ClassifyCase{"PreconditionFailed", 412, "PreconditionFailed", TransportFailure::None, false, ErrorClass::Terminal},
        ClassifyCase{"RetryableErrorCode", 400, "RetryableError", TransportFailure::None, false, ErrorClass::Retryable},
        ClassifyCase{"ParentDeleted", 404, "ParentResourceNotFound", TransportFailure::None, false, ErrorClass::Terminal},
        ClassifyCase{"NoSuchCredential", 0, "UnknownCredential", TransportFailure::None, false, ErrorClass::Terminal}),
    [](const auto& info) { return info.param.name; });

TEST(ErrorFromResponse, ReadsTheArmEnvelope) {
  auto error = errorFromResponse(
      404, R"({"error":{"code":"ResourceNotFound","message":"The Resource 'x' was not found.","target":"name"}})", "rid-1", "7");
  EXPECT_EQ(error.httpStatus, 404);
  EXPECT_EQ(error.code, "ResourceNotFound");
  EXPECT_EQ(error.message, "The Resource 'x' was not found.");
  EXPECT_EQ(error.target, "name");
  EXPECT_EQ(error.requestId, "rid-1");
  EXPECT_EQ(error.retryAfter, std::chrono::seconds(7));
  EXPECT_TRUE(error.isNotFound());
  EXPECT_EQ(error.str(), "404 ResourceNotFound: The Resource 'x' was not found. (target name) [x-ms-request-id rid-1]");
}

TEST(ErrorFromResponse, ReadsEntraTokenErrors) {
  auto error = errorFromResponse(401, R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret."})", "", "");
  EXPECT_EQ(error.code, "invalid_client");
  EXPECT_EQ(error.message, "AADSTS7000215: Invalid client secret.");
  EXPECT_FALSE(error.retryAfter);
}

TEST(ErrorFromResponse, SurvivesANonJsonBody) {
  auto error = errorFromResponse(502, "<html>Bad Gateway</html>", "", "");
  EXPECT_EQ(error.code, "HttpStatus502");
  EXPECT_EQ(error.message, "<html>Bad Gateway</html>");
}

TEST(ParseRetryAfter, AcceptsSecondsOnly) {
  EXPECT_EQ(parseRetryAfter("10"), std::chrono::seconds(10));
  EXPECT_EQ(parseRetryAfter(" 0 "), std::chrono::seconds(0));
  EXPECT_FALSE(parseRetryAfter(""));
  EXPECT_FALSE(parseRetryAfter("-1"));
  EXPECT_FALSE(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
}

}  // namespace
}  // namespace anf::azure
