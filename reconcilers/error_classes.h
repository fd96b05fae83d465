#pragma once
// The one place that decides how the engine treats a failure (STYLE.md's four classes, modeled on Azure
// Service Operator's error_classifier.go). Reconcilers state facts about a failure (what Azure answered,
// which documented row it is, whether a grant was just made, whether the operator refused the document);
// classify() turns them into a controller::ErrorClass and its retry hint. Every ReconcileError constructor
// goes through classified(): fromAzure, refused, dependencyNotReady and waitingForAzure (arm_calls.h),
// toReconcileError (documented_errors.h). No reconciler sets errorClass itself.
//
// azure::classify (azure/errors.h) is a different decision: whether the client resends one request.
// Both read azure::codeKind() and azure::isTransient(), the one table of Azure codes.
//
// The classes, first match wins:
//   NeedsDocumentChange  the operator refused the document before sending (a refused transition, an
//                        immutable field, a spec.azure.tenant naming no configured credential); the documented "EncryptionKeySource cannot be changed" and
//                        "Key Vault URI is invalid"; an ANF size outside the allowed range (InvalidPoolSize, a
//                        volume's InvalidValueReceived) or a second delegated subnet in a VNet; Azure's other
//                        400s (InvalidParameter, BadRequest, ...)
//   RetryAfter           a dependency's status lacks a fact yet; AnotherOperationInProgress and ANF's "Another
//                        volume creation is in progress" (also marked concurrencyRefused); while a grant
//                        propagates: AuthorizationFailed, LinkedAuthorizationFailed, PrincipalNotFound and
//                        the documented "Unable to use the configured encryption key" (EncryptionKeyUnusable)
//   RetryNow             429, 5xx, timeouts and dropped connections; 412 (re-read, then write again);
//                        failures that are not Azure's answer
//   WaitsForAzure        an ANF quota reached (SizeQuotaExceeded, AccountQuotaExceeded, PoolQuotaExceeded,
//                        VolumeQuotaExceeded, PoolSizeTooSmall): no retry hint, so it is looked at again at
//                        resync only (a support request takes days; resending every few seconds only adds
//                        refused writes to the activity log); every other documented key vault condition (a key missing, disabled, expired or not
//                        active, a missing grant, a pending endpoint connection, an unreachable vault); a
//                        parent deleted under us (ParentResourceNotFound, 404); authorization refused without
//                        a fresh grant (401, 403); a conflict with Azure's state (409); a bad TLS certificate;
//                        a condition the reconciler found in Azure (waitingForAzure)
#include <chrono>
#include <optional>

#include "azure/errors.h"
#include "controller/reconciler.h"

namespace anf::reconcilers {

struct DocumentedError;
struct LimitRefusal;

/// The facts about one failure. Defaults: none holds.
struct FailureFacts {
  /// Azure's answer (httpStatus, code, transport); empty (status 0, no code) when the failure is ours.
  azure::AzureError azure;
  /// The documented row Azure's text or our own check matched.
  const DocumentedError* documented = nullptr;
  /// The ANF resource limit or quota Azure refused the write for (limit_refusals.h).
  const LimitRefusal* limit = nullptr;
  /// A grant for the principal involved was made moments ago (RBAC and access policies propagate).
  bool grantPropagating = false;
  /// The operator refused the document before sending anything.
  bool refusedByOperator = false;
  /// Another document's status lacks a fact this one needs (the engine gates on Ready: a race at most).
  bool dependencyPending = false;
  /// The reconciler found a condition in Azure that someone (the customer, another document's
  /// operation) must change; or an operation failed on such a step (cross-tenant encryption).
  bool awaitingAzure = false;
};

/// The class of a failure and the delay before it is looked at again.
struct Classification {
  controller::ErrorClass errorClass = controller::ErrorClass::RetryNow;
  std::optional<std::chrono::milliseconds> retryAfter;  // Azure's Retry-After when it sent one
};

/// The decision (see the table above).
Classification classify(const FailureFacts& facts);

/// `error` with errorClass and (unless already set) retryAfter from classify(facts).
controller::ReconcileError classified(controller::ReconcileError error, const FailureFacts& facts);

}  // namespace anf::reconcilers
