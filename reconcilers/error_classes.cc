#include "reconcilers/error_classes.h"

#include "reconcilers/documented_errors.h"
#include "reconcilers/limit_refusals.h"

namespace anf::reconcilers {
namespace {

using controller::ErrorClass;
using std::chrono::milliseconds;

constexpr milliseconds kDependencyDelay{2000};
constexpr milliseconds kPropagationDelay{5000};  // a grant or another operation: usually seconds
constexpr milliseconds kRecheckDelay{5000};      // a condition in Azure: looked at again, not hammered

ErrorClass classOf(const FailureFacts& f) {
  const azure::AzureError& e = f.azure;
  const azure::CodeKind kind = azure::codeKind(e.code);
  if (f.refusedByOperator || kind == azure::CodeKind::NoCredential) return ErrorClass::NeedsDocumentChange;
  if (f.dependencyPending) return ErrorClass::RetryAfter;
  if (azure::isTransient(e) || e.httpStatus == 412) return ErrorClass::RetryNow;
  if (kind == azure::CodeKind::Busy || azure::refusesConcurrency(e)) return ErrorClass::RetryAfter;
  if (f.grantPropagating && (kind == azure::CodeKind::GrantPending || e.httpStatus == 403 ||
                             f.documented == &kEncryptionKeyUnusable))
    return ErrorClass::RetryAfter;
  if (f.limit) return f.limit->waitsForAzure ? ErrorClass::WaitsForAzure : ErrorClass::NeedsDocumentChange;
  // Only these two documented rows are cured by the document alone; the others by a change in Azure.
  if (f.documented == &kEncryptionKeySourceChange || f.documented == &kKeyVaultUriInvalid)
    return ErrorClass::NeedsDocumentChange;
  if (f.documented || f.awaitingAzure) return ErrorClass::WaitsForAzure;
  if (kind == azure::CodeKind::GrantPending || kind == azure::CodeKind::ParentMissing ||
      kind == azure::CodeKind::BadCertificate)
    return ErrorClass::WaitsForAzure;
  if (e.httpStatus == 401 || e.httpStatus == 403 || e.httpStatus == 404 || e.httpStatus == 409)
    return ErrorClass::WaitsForAzure;
  if (e.httpStatus >= 400) return ErrorClass::NeedsDocumentChange;
  return ErrorClass::RetryNow;
}

}  // namespace

Classification classify(const FailureFacts& facts) {
  Classification result{.errorClass = classOf(facts), .retryAfter = facts.azure.retryAfter};
  if (result.retryAfter) return result;
  if (result.errorClass == ErrorClass::RetryAfter)
    result.retryAfter = facts.dependencyPending ? kDependencyDelay : kPropagationDelay;
  if (result.errorClass == ErrorClass::WaitsForAzure && !facts.limit) result.retryAfter = kRecheckDelay;
  return result;
}

controller::ReconcileError classified(controller::ReconcileError error, const FailureFacts& facts) {
  const Classification c = classify(facts);
  error.errorClass = c.errorClass;
  error.concurrencyRefused = azure::refusesConcurrency(facts.azure);
  if (!error.retryAfter) error.retryAfter = c.retryAfter;
  return error;
}

}  // namespace anf::reconcilers
