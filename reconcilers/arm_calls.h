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

/// Every item of `parent`'s `childType` collection, listed once per pass: the LIST result is kept in
/// the context's ObservationCache under "list:<parent key>/<childType>".
Result<std::vector<Json>> listForPass(azure::AzureClient& client, const controller::ReconcileContext& context,
                                      const std::string& credential, const azure::ResourceId& parent,
                                      std::string_view childType);
/// Drops the cached LIST after a write below `parent`.
void invalidateList(const controller::ReconcileContext& context, const azure::ResourceId& parent,
                    std::string_view childType);

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

/// PUT, PATCH or DELETE (deleteIfExists) of `id`, a `childType` child of its parent, with the document's
/// credential; then the pass's LIST of the parent is dropped so that the next observation sees the write.
Result<controller::Outcome> writeListed(azure::AzureClient& client, const controller::ReconcileContext& context,
                                        ListedWrite write, const azure::ResourceId& id, std::string_view childType,
                                        Json body, std::string description);

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
