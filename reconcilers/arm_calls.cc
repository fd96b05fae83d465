#include "reconcilers/arm_calls.h"

#include <algorithm>
#include <cctype>

#include "azure/client.h"
#include "reconcilers/arm_bodies.h"
#include "reconcilers/documented_errors.h"
#include "reconcilers/documents.h"
#include "reconcilers/error_classes.h"
#include "reconcilers/limit_refusals.h"

namespace anf::reconcilers {

ReconcileError fromAzure(const azure::AzureError& error, const AzureErrorContext& context) {
  const DocumentedError* row = findDocumentedError(error.message);
  const LimitRefusal* limit = row ? nullptr : findLimitRefusal(error);
  ReconcileError result{.reason = row ? std::string{row->reason} : error.code.empty() ? "AzureError" : error.code,
                        .message = row     ? withResolution(error.message, *row)
                                   : limit ? withResolution(error.message, limit->resolution)
                                           : error.message};
  if (row && !row->conditionType.empty()) result.conditionType = std::string{row->conditionType};
  result.azure = controller::AzureErrorDetails{.httpStatus = error.httpStatus, .code = error.code,
                                               .message = error.message, .requestId = error.requestId};
  const bool clientSawGrant = error.retryable && azure::codeKind(error.code) == azure::CodeKind::GrantPending;
  return classified(std::move(result), {.azure = error, .documented = row, .limit = limit,
                                        .grantPropagating = context.grantPropagating || clientSawGrant,
                                        .awaitingAzure = context.awaitingAzure});
}

Result<std::optional<Json>> getIfExists(azure::AzureClient& client, const std::string& credential,
                                        const azure::ResourceId& id) {
  auto result = client.get(credential, id).get();
  if (result) return std::optional<Json>{std::move(result->body)};
  if (result.error().isNotFound()) return std::optional<Json>{};
  return std::unexpected(fromAzure(result.error()));
}

namespace {

std::string lower(std::string_view text) {
  std::string out{text};
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string getKey(const azure::ResourceId& id) { return "get:" + id.key(); }

std::string listKey(const azure::ResourceId& parent, std::string_view childType) {
  return "list:" + parent.key() + "/" + lower(childType);
}

/// The key of the LIST that holds `id` ("volumes" under a pool; "Microsoft.NetApp/netAppAccounts" under a
/// resource group, "Microsoft.Authorization/roleAssignments" under a vault), or "" for an id without parent.
std::string parentListKey(const azure::ResourceId& id) {
  const auto parent = id.parent();
  if (!parent) return "";
  const auto types = id.types();
  return listKey(*parent, types.size() > 1 ? types.back() : id.resourceType());
}

/// Replaces (or adds) the item named like `id` in a cached LIST; with a null `resource`, removes it.
void replaceListed(controller::ObservationCache& cache, const azure::ResourceId& id, const Json& resource) {
  const std::string key = parentListKey(id);
  if (key.empty()) return;
  cache.update(key, [&](Json& items) {
    if (!items.is_array()) return;
    const std::string name = id.name();
    auto same = [&](const Json& item) {
      const std::string itemName = item.value("name", "");
      return equalsIgnoreCase(itemName.substr(itemName.find_last_of('/') + 1), name);
    };
    const auto it = std::ranges::find_if(items, same);
    if (resource.is_null()) {
      if (it != items.end()) items.erase(it);
    } else if (it != items.end()) {
      *it = resource;
    } else {
      items.push_back(resource);
    }
  });
}

/// A failed write: Azure may have applied it anyway when it did not answer or answered 5xx.
void recordFailedWrite(controller::ObservationCache& cache, const azure::ResourceId& id, const ReconcileError& error) {
  const int status = error.azure ? error.azure->httpStatus : 0;
  if (status == 0 || status >= 500) forgetObserved(cache, id);
}

}  // namespace

Result<std::optional<Json>> getForPass(azure::AzureClient& client, const controller::ReconcileContext& context,
                                       const std::string& credential, const azure::ResourceId& id) {
  auto cached = context.cache.getOrLoad(getKey(id), [&]() -> Result<Json> {
    auto found = getIfExists(client, credential, id);
    if (!found) return std::unexpected(found.error());
    return found->value_or(Json(nullptr));
  });
  if (!cached) return std::unexpected(cached.error());
  if (cached->is_null()) return std::optional<Json>{};
  return std::optional<Json>{std::move(*cached)};
}

Result<std::vector<Json>> listForPass(azure::AzureClient& client, const controller::ReconcileContext& context,
                                      const std::string& credential, const azure::ResourceId& parent,
                                      std::string_view childType) {
  auto cached = context.cache.getOrLoad(listKey(parent, childType), [&]() -> Result<Json> {
    auto items = client.list(credential, parent, childType).get();
    if (items) return Json(std::move(*items));
    if (items.error().isNotFound()) return Json::array();  // the parent itself is gone: no children
    return std::unexpected(fromAzure(items.error()));
  });
  if (!cached) return std::unexpected(cached.error());
  return cached->get<std::vector<Json>>();
}

void invalidateList(const controller::ReconcileContext& context, const azure::ResourceId& parent,
                    std::string_view childType) {
  context.cache.invalidate(listKey(parent, childType));
}

void recordResource(controller::ObservationCache& cache, const azure::ResourceId& id, const Json& resource) {
  if (!resource.is_object() || !resource.contains("id")) return forgetObserved(cache, id);
  cache.update(getKey(id), [&](Json& cached) { cached = resource; });
  replaceListed(cache, id, resource);
}

void recordGone(controller::ObservationCache& cache, const azure::ResourceId& id) {
  cache.update(getKey(id), [](Json& cached) { cached = nullptr; });
  replaceListed(cache, id, nullptr);
}

void forgetObserved(controller::ObservationCache& cache, const azure::ResourceId& id, bool below) {
  cache.invalidate(getKey(id));
  if (const std::string key = parentListKey(id); !key.empty()) cache.invalidate(key);
  if (below) {
    cache.invalidatePrefix(getKey(id) + "/");
    cache.invalidatePrefix("list:" + id.key() + "/");
  }
}

const Result<azure::ArmResult>& recordWrite(controller::ObservationCache& cache, const azure::ResourceId& id,
                                            const Result<azure::ArmResult>& result) {
  if (result) recordResource(cache, id, result->body);
  else recordFailedWrite(cache, id, result.error());
  return result;
}

std::optional<Json> findByName(const std::vector<Json>& items, std::string_view name) {
  for (const Json& item : items) {
    std::string itemName = item.value("name", "");
    itemName = itemName.substr(itemName.find_last_of('/') + 1);
    if (equalsIgnoreCase(itemName, name)) return item;
  }
  return std::nullopt;
}

controller::Outcome outcomeOf(const azure::ArmResult& result, std::string description) {
  controller::Outcome outcome;
  if (result.operation) outcome.operation = result.operation->toJson();
  if (result.body.is_object() && result.body.contains("id")) outcome.facts["resourceId"] = result.body["id"];
  outcome.description = std::move(description);
  return outcome;
}

Result<controller::Outcome> deleteIfExists(azure::AzureClient& client, const std::string& credential,
                                           const azure::ResourceId& id, std::string description) {
  auto result = client.remove(credential, id).get();
  if (result) return outcomeOf(*result, std::move(description));
  if (result.error().isNotFound()) return controller::Outcome{.description = "already deleted"};
  return std::unexpected(fromAzure(result.error()));
}

Result<ListedObservation> observeListed(azure::AzureClient& client, const controller::ReconcileContext& context,
                                        const azure::ResourceId& id, std::string_view childType) {
  auto items = listForPass(client, context, credentialOf(context.document), *id.parent(), childType);
  if (!items) return std::unexpected(items.error());
  ListedObservation listed;
  listed.observation.facts["resourceId"] = id.str();
  listed.item = findByName(*items, id.name());
  return listed;
}

Result<controller::Outcome> writeListed(azure::AzureClient& client, const controller::ReconcileContext& context,
                                        ListedWrite write, const azure::ResourceId& id, Json body, std::string description) {
  const std::string credential = credentialOf(context.document);
  if (write == ListedWrite::Delete) {
    auto outcome = deleteIfExists(client, credential, id, std::move(description));
    if (!outcome) recordFailedWrite(context.cache, id, outcome.error());
    else if (!outcome->operation) recordGone(context.cache, id);  // else gone when the operation ends
    return outcome;
  }
  auto result = await(write == ListedWrite::Put ? client.put(credential, id, std::move(body))
                                                : client.patch(credential, id, std::move(body)));
  if (!recordWrite(context.cache, id, result)) return std::unexpected(result.error());
  return outcomeOf(*result, std::move(description));
}

ReconcileError dependencyNotReady(std::string_view what) {
  return classified({.reason = "DependencyNotReady", .message = std::string{what} + " is not known yet"},
                    {.dependencyPending = true});
}

ReconcileError refused(std::string reason, std::string message) {
  return classified({.reason = std::move(reason), .message = std::move(message)}, {.refusedByOperator = true});
}

ReconcileError waitingForAzure(std::string reason, std::string message, std::chrono::milliseconds recheckAfter,
                               std::optional<std::string> conditionType) {
  return classified({.reason = std::move(reason), .message = std::move(message), .retryAfter = recheckAfter,
                     .conditionType = std::move(conditionType)},
                    {.awaitingAzure = true});
}

}  // namespace anf::reconcilers
