#pragma once
// The few shapes every reconciler needs around azure::AzureClient, so each reconciler reads as its
// flow: a GET where 404 means "absent", a LIST shared for the pass through the ObservationCache, a
// write turned into an Outcome (with the long-running operation's poll state), and Azure errors
// turned into ReconcileErrors with the documented text and resolution (documented_errors.h).
// The client header (cpprestsdk) stays out of this header: callers include azure/client.h themselves.
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

using controller::Json;
using controller::ReconcileError;
template <typename T>
using Result = controller::Result<T>;

/// An Azure error as a ReconcileError: documented texts keep Azure's words and gain the documented
/// resolution (terminal); others keep code and message, retryable as the client classified them,
/// with Retry-After as the retry hint.
ReconcileError fromAzure(const azure::AzureError& error);

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

/// DELETE `id`; a resource already gone is success.
Result<controller::Outcome> deleteIfExists(azure::AzureClient& client, const std::string& credential,
                                           const azure::ResourceId& id, std::string description);

/// A retryable error for a dependency whose status lacks a fact yet (the engine gates on Ready,
/// so this is a race at most).
ReconcileError dependencyNotReady(std::string_view what);

/// A condition in Azure that the customer or Azure itself must change (a pending endpoint connection, a
/// feature still registering, a customer step not done): never parked, observed again after a while.
ReconcileError waitingForAzure(std::string reason, std::string message);

/// A terminal error for a manifest field the operator refuses before sending (SPEC §4 rules).
ReconcileError refused(std::string reason, std::string message);

}  // namespace anf::reconcilers
