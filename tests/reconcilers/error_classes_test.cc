// The one classifier (reconcilers/error_classes.h), through the constructors reconcilers use.
#include "reconcilers/error_classes.h"

#include <functional>

#include <gtest/gtest.h>

#include "reconcilers/arm_calls.h"
#include "reconcilers/documented_errors.h"

namespace anf::reconcilers {
namespace {

using controller::ErrorClass;
using controller::ReconcileError;
using std::chrono::milliseconds;

azure::AzureError answer(int status, std::string code, std::string message = "") {
  return azure::AzureError{.httpStatus = status, .code = std::move(code), .message = std::move(message)};
}
azure::AzureError dropped(azure::TransportFailure how, std::string code) {
  return azure::AzureError{.code = std::move(code), .transport = how};
}

constexpr const char* kKeyUnusableText = "Unable to use the configured encryption key, please check if key is active";

struct ClassCase {
  std::string name;
  std::function<ReconcileError()> make;
  ErrorClass want;
};

class ErrorClasses : public ::testing::TestWithParam<ClassCase> {};

TEST_P(ErrorClasses, ClassifiesTheFacts) {
  const ReconcileError error = GetParam().make();
  EXPECT_EQ(error.errorClass, GetParam().want) << error.reason << ": " << error.message;
  EXPECT_EQ(error.parked(), GetParam().want == ErrorClass::NeedsDocumentChange);
  // Whatever may heal by itself or by a change in Azure is looked at again after a while.
  if (GetParam().want == ErrorClass::RetryAfter || GetParam().want == ErrorClass::WaitsForAzure) {
    EXPECT_TRUE(error.retryAfter.has_value());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ErrorClasses,
    ::testing::Values(
        // Transient: Azure or the network hiccuped.
        ClassCase{"Throttled", [] { return fromAzure(answer(429, "TooManyRequests")); }, ErrorClass::RetryNow},
        ClassCase{"ServiceUnavailable", [] { return fromAzure(answer(503, "ServiceUnavailable")); }, ErrorClass::RetryNow},
        ClassCase{"InternalServerError", [] { return fromAzure(answer(500, "InternalServerError")); }, ErrorClass::RetryNow},
        ClassCase{"ConnectionLost", [] { return fromAzure(dropped(azure::TransportFailure::ConnectionLost, "ConnectionLost")); },
                  ErrorClass::RetryNow},
        ClassCase{"Timeout", [] { return fromAzure(dropped(azure::TransportFailure::Timeout, "Timeout")); }, ErrorClass::RetryNow},
        ClassCase{"PreconditionFailed", [] { return fromAzure(answer(412, "PreconditionFailed")); }, ErrorClass::RetryNow},
        // Clears by itself after a delay.
        ClassCase{"AnotherOperationInProgress", [] { return fromAzure(answer(409, "AnotherOperationInProgress")); },
                  ErrorClass::RetryAfter},
        ClassCase{"RequestConflictWhileProvisioning", [] { return fromAzure(answer(409, "RequestConflict")); },
                  ErrorClass::RetryAfter},
        ClassCase{"AuthorizationFailedWhileGrantPropagates",
                  [] { return fromAzure(answer(403, "AuthorizationFailed"), {.grantPropagating = true}); }, ErrorClass::RetryAfter},
        ClassCase{"AuthorizationFailedTheClientSawAGrantFor",
                  [] {
                    auto error = answer(403, "AuthorizationFailed");
                    error.retryable = true;  // the client noted a grant for this principal
                    return fromAzure(error);
                  },
                  ErrorClass::RetryAfter},
        ClassCase{"PrincipalNotFoundWhileGrantPropagates",
                  [] { return fromAzure(answer(400, "PrincipalNotFound"), {.grantPropagating = true}); }, ErrorClass::RetryAfter},
        ClassCase{"EncryptionKeyUnusableWhileGrantPropagates",
                  [] { return fromAzure(answer(0, "EncryptionKeyUnusable", kKeyUnusableText), {.grantPropagating = true}); },
                  ErrorClass::RetryAfter},
        ClassCase{"DependencyNotReady", [] { return dependencyNotReady("UserAssignedIdentity/ids"); }, ErrorClass::RetryAfter},
        // Waits for someone to change Azure; re-observed at every resync.
        ClassCase{"EncryptionKeyUnusableWithoutGrant",
                  [] { return fromAzure(answer(0, "EncryptionKeyUnusable", kKeyUnusableText)); }, ErrorClass::WaitsForAzure},
        ClassCase{"AuthorizationFailedWithoutGrant", [] { return fromAzure(answer(403, "AuthorizationFailed")); },
                  ErrorClass::WaitsForAzure},
        ClassCase{"ParentResourceNotFound", [] { return fromAzure(answer(404, "ParentResourceNotFound")); },
                  ErrorClass::WaitsForAzure},
        ClassCase{"CannotDeleteResource", [] { return fromAzure(answer(409, "CannotDeleteResource")); }, ErrorClass::WaitsForAzure},
        ClassCase{"BadCertificate", [] { return fromAzure(dropped(azure::TransportFailure::ConnectFailed, "TlsHandshakeFailed")); },
                  ErrorClass::WaitsForAzure},
        ClassCase{"KeyDisabled", [] { return toReconcileError(kKeyVaultKeyDisabled); }, ErrorClass::WaitsForAzure},
        ClassCase{"KeyExpired", [] { return toReconcileError(kKeyVaultKeyExpired); }, ErrorClass::WaitsForAzure},
        ClassCase{"KeyNotActive", [] { return toReconcileError(kKeyVaultKeyNotActive); }, ErrorClass::WaitsForAzure},
        ClassCase{"KeyNotFound", [] { return toReconcileError(kKeyVaultKeyNotFound); }, ErrorClass::WaitsForAzure},
        ClassCase{"MissingGrant", [] { return toReconcileError(kEncryptionKeyUnusable); }, ErrorClass::WaitsForAzure},
        ClassCase{"VaultUnreachable", [] { return toReconcileError(kKeyVaultUnreachable); }, ErrorClass::WaitsForAzure},
        ClassCase{"PendingEndpointConnection",
                  [] { return waitingForAzure("PrivateEndpointPending", "the connection is Pending"); }, ErrorClass::WaitsForAzure},
        ClassCase{"CrossTenantOperationFailed",
                  [] { return fromAzure(answer(400, "InvalidParameter"), {.awaitingAzure = true}); }, ErrorClass::WaitsForAzure},
        // Needs a document change; parked until the spec changes.
        ClassCase{"InvalidParameter", [] { return fromAzure(answer(400, "InvalidParameter")); }, ErrorClass::NeedsDocumentChange},
        ClassCase{"KeySourceCannotBeChangedFromAzure",
                  [] { return fromAzure(answer(400, "BadRequest", "EncryptionKeySource cannot be changed")); },
                  ErrorClass::NeedsDocumentChange},
        ClassCase{"KeySourceCannotBeChangedByOurCheck", [] { return toReconcileError(kEncryptionKeySourceChange); },
                  ErrorClass::NeedsDocumentChange},
        ClassCase{"KeyVaultUriInvalid", [] { return toReconcileError(kKeyVaultUriInvalid); }, ErrorClass::NeedsDocumentChange},
        ClassCase{"UnknownCredential", [] { return fromAzure(answer(0, "UnknownCredential")); }, ErrorClass::NeedsDocumentChange},
        ClassCase{"RefusedTransition", [] { return refused("CmkToPmkRefused", "going back is refused"); },
                  ErrorClass::NeedsDocumentChange}),
    [](const auto& info) { return info.param.name; });

TEST(ErrorClassesDetails, AzureTextReachesStatusVerbatimWithTheResolutionAndTheRequestId) {
  auto azure = answer(400, "KeyVaultKeyNotFound", "The operation failed because the specified key vault key was not found.");
  azure.requestId = "req-1";
  const ReconcileError error = fromAzure(azure);
  EXPECT_EQ(error.reason, "KeyVaultKeyNotFound");
  EXPECT_EQ(error.message,
            "The operation failed because the specified key vault key was not found. Resolution: When entering key "
            "URI manually, ensure that the URI is correct.");
  EXPECT_EQ(error.conditionType, std::optional<std::string>{"KeyVaultValid"});
  ASSERT_TRUE(error.azure);
  EXPECT_EQ(error.azure->httpStatus, 400);
  EXPECT_EQ(error.azure->message, azure.message);
  EXPECT_EQ(error.azure->requestId, "req-1");
}

TEST(ErrorClassesDetails, UndocumentedErrorsKeepCodeAndTextAndAzuresRetryAfter) {
  auto azure = answer(429, "TooManyRequests", "slow down");
  azure.retryAfter = milliseconds{7000};
  const ReconcileError error = fromAzure(azure);
  EXPECT_EQ(error.reason, "TooManyRequests");
  EXPECT_EQ(error.message, "slow down");
  EXPECT_EQ(error.retryAfter, milliseconds{7000});
}

TEST(ErrorClassesDetails, TheClientAndTheEngineAgreeOnEveryCode) {
  // What the client resends without being told of a grant never parks a document.
  for (const auto& error : {answer(429, "TooManyRequests"), answer(503, "ServiceUnavailable"), answer(409, "AnotherOperationInProgress"),
                            dropped(azure::TransportFailure::ConnectionLost, "ConnectionLost")}) {
    ASSERT_EQ(azure::classify(error), azure::ErrorClass::Retryable) << error.code;
    const auto engine = classify({.azure = error}).errorClass;
    EXPECT_TRUE(engine == ErrorClass::RetryNow || engine == ErrorClass::RetryAfter) << error.code;
  }
  const auto grant = answer(403, "AuthorizationFailed");
  EXPECT_EQ(azure::classify(grant, {.grantPropagating = true}), azure::ErrorClass::Retryable);
  EXPECT_EQ(classify({.azure = grant, .grantPropagating = true}).errorClass, ErrorClass::RetryAfter);
}

}  // namespace
}  // namespace anf::reconcilers
