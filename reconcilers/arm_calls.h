#pragma once
// The few shapes every reconciler needs around azure::AzureClient, so each reconciler reads as its
// flow: a GET where 404 means "absent", a LIST shared for the pass through the ObservationCache, a
// write turned into an Outcome (with the long-running operation's poll state), and Azure errors
// turned into ReconcileErrors with the documented text and resolution (documented_errors.h).
// The client header (cpprestsdk) stays out of this header: callers include azure/client.h themselves.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "azure/errors.h"
#include "azure/resource_id.h"
#include "controller/reconciler.h"

namespace anf::azure {
class AzureClient;
struct ArmResult;
}  // namespace anf::azure

namespace anf::reconcilers {

// The engine's vocabulary, spelled once for every reconciler.
using controller::Json;
using controller::Kind;
using controller::Observation;
using controller::Outcome;
using controller::ReconcileContext;
using controller::ReconcileError;
template <typename T>
using Result = controller::Result<T>;

/// What the caller knows about an Azure error beyond Azure's answer (facts for error_classes.h).
struct AzureErrorContext {
  /// This operator granted the principal involved moments ago (status fact accessGrantedAt). The client's
  /// own notice of a grant (AzureError::retryable on an authorization code) counts too.
  bool grantPropagating = false;
  /// The failed write depends on a step someone else does in Azure (cross-tenant: the customer's consent
  /// or role): it waits for Azure to change instead of being parked.
  bool awaitingAzure = false;
};

/// An Azure error as a ReconcileError, classified by error_classes.h: a documented text keeps Azure's
/// words and gains the documented resolution; any other keeps Azure's code and message verbatim. Azure's
/// details (HTTP status, code, message, x-ms-request-id) are kept for status.
ReconcileError fromAzure(const azure::AzureError& error, const AzureErrorContext& context = {});

/// GET `id`; nullopt when Azure answers 404.
Result<std::optional<Json>> getIfExists(azure::AzureClient& client, const std::string& credential,
                                        const azure::ResourceId& id);

/// GET `id` once per pass: kept in the context's ObservationCache under "get:<id key>" (an absent resource as
/// null), so that a vault and key are read once for all accounts, an account once for observe and update.
/// nullopt when Azure answers 404. Whoever writes `id` records what Azure answered (recordResource below).
Result<std::optional<Json>> getForPass(azure::AzureClient& client, const controller::ReconcileContext& context,
                                       const std::string& credential, const azure::ResourceId& id);

/// Every item of `parent`'s `childType` collection, listed once per pass: the LIST result is kept in
/// the context's ObservationCache under "list:<parent key>/<childtype>".
Result<std::vector<Json>> listForPass(azure::AzureClient& client, const controller::ReconcileContext& context,
                                      const std::string& credential, const azure::ResourceId& parent,
                                      std::string_view childType);
/// Drops the cached LIST of `parent`'s `childType` collection (a read that must see Azure now).
void invalidateList(const controller::ReconcileContext& context, const azure::ResourceId& parent,
                    std::string_view childType);

// Keeping the pass's observations current (controller::ObservationCache): what Azure answered to a write, or
// the final resource of an operation, replaces what the pass holds of that resource (its GET and its item in
// its parent's LIST, where cached), so that the next observation needs no request.

/// Azure answered with `resource` as it now is. A body that is not the resource (no id: a 202 without body)
/// drops what the pass holds of `id` instead.
void recordResource(controller::ObservationCache& cache, const azure::ResourceId& id, const Json& resource);
/// `id` is gone from Azure (a DELETE ended).
void recordGone(controller::ObservationCache& cache, const azure::ResourceId& id);
/// Azure changed `id` in a way no response shows: what the pass holds of it is dropped; with `below`, also
/// everything cached under it (changeKeyVault and transitiontocmk change an account's volumes).
void forgetObserved(controller::ObservationCache& cache, const azure::ResourceId& id, bool below = false);
/// Azure's answer to a PUT or PATCH of `id`: its resource recorded (recordResource); for a failure, what the
/// pass holds of `id` dropped when Azure may have applied it anyway (no answer, a 5xx), a refusal (4xx)
/// having changed nothing. Returns `result`.
const Result<azure::ArmResult>& recordWrite(controller::ObservationCache& cache, const azure::ResourceId& id,
                                            const Result<azure::ArmResult>& result);

/// The item named `name` (case-insensitive, last segment of "account/pool/volume" names) of a LIST.
std::optional<Json> findByName(const std::vector<Json>& items, std::string_view name);

/// The Outcome of a write: the operation's poll state when one was started, the body's id as the
/// resourceId fact, and the description for the log.
controller::Outcome outcomeOf(const azure::ArmResult& result, std::string description);

/// Waits for a client task and converts its error; the one place reconcilers block on a request.
template <typename Task>
auto await(Task&& task) -> Result<typename std::decay_t<decltype(task.get())>::value_type> {
  auto value = task.get();
  if (!value) return std::unexpected(fromAzure(value.error()));
  if constexpr (std::is_void_v<typename decltype(value)::value_type>) return {};
  else return std::move(*value);
}

/// The start of observing a child that its parent's LIST observes: the observation with its resourceId fact,
/// and the child as listed (nullopt when Azure has none of that name).
struct ListedObservation {
  controller::Observation observation;
  std::optional<Json> item;
};
Result<ListedObservation> observeListed(azure::AzureClient& client, const controller::ReconcileContext& context,
                                        const azure::ResourceId& id, std::string_view childType);

/// How a child that its parent's LIST observes (listForPass) is written.
enum class ListedWrite { Put, Patch, Delete };

/// PUT, PATCH or DELETE (deleteIfExists) of `id`, a child in its parent's LIST, with the document's
/// credential; Azure's answer is recorded in the pass's cache (recordResource), so that the next observation
/// sees the write without a request.
Result<controller::Outcome> writeListed(azure::AzureClient& client, const controller::ReconcileContext& context,
                                        ListedWrite write, const azure::ResourceId& id, Json body, std::string description);

/// DELETE `id`; a resource already gone is success.
Result<controller::Outcome> deleteIfExists(azure::AzureClient& client, const std::string& credential,
                                           const azure::ResourceId& id, std::string description);

/// A dependency whose status lacks a fact yet (the engine gates on Ready, so this is a race at most):
/// retried after a short delay.
ReconcileError dependencyNotReady(std::string_view what);

/// A manifest field the operator refuses before sending (SPEC §4 rules): parked until the document changes.
ReconcileError refused(std::string reason, std::string message);

/// A condition the reconciler found in Azure that someone else changes (the customer approves an endpoint or
/// does a cross-tenant step, a feature registers, another document's operation moves a volume): never
/// parked, observed again after `recheckAfter`.
ReconcileError waitingForAzure(std::string reason, std::string message,
                               std::chrono::milliseconds recheckAfter = std::chrono::seconds{30},
                               std::optional<std::string> conditionType = std::nullopt);

}  // namespace anf::reconcilers
