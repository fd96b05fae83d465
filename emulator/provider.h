#pragma once
// The contract between the emulator's core (server, router, tokens, Graph, LRO engine, throttling,
// faults, control API, persistence: emulator/*.cc) and its resource providers (one file each:
// emulator/providers/netapp.cc, keyvault.cc, network.cc, managed_identity.cc, authorization.cc,
// features.cc, resources.cc). Everything runs under one world lock: a handler sees a consistent
// world and never blocks.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace anf::emulator {

using Json = nlohmann::json;

/// Emulator time: wall clock plus an offset moved by POST /_emulator/clock/advance.
class Clock {
 public:
  std::chrono::system_clock::time_point now() const { return std::chrono::system_clock::now() + offset_; }
  std::int64_t unixSeconds() const;
  std::int64_t unixMilliseconds() const;
  std::string iso8601() const;  // "2026-11-23T10:00:00.0000000Z"
  void advance(std::chrono::seconds by) { offset_ += by; }
  /// How far the clock has been moved (persisted with the state).
  std::chrono::seconds offset() const { return offset_; }

 private:
  std::chrono::seconds offset_{0};
};

/// The kinds of timed operations and their default share of World::lroDuration, in Azure's proportions (volume
/// creation the longest). "roleAssignmentPropagation" is no operation: the time a new role assignment takes to
/// grant data actions; its share is 0 (opt-in), as the operator's tests grant and use roles at once.
const std::vector<std::pair<std::string, double>>& operationKinds();

/// `time` in UTC as ISO 8601 with seven fractional digits, as ARM writes it: "2026-11-23T10:00:00.0000000Z".
std::string iso8601(std::chrono::system_clock::time_point time);

/// A tenant's principal that can get tokens with a client secret (an app registration + its SP).
struct Principal {
  std::string name;
  std::string clientId;
  std::string clientSecret;
  std::string objectId;
};

struct Tenant {
  std::string tenantId;
  std::string name;  // "provider", "customer"
  std::vector<std::string> subscriptions;
  std::vector<Principal> principals;
};

/// The caller, from a verified bearer token.
struct Caller {
  std::string tenantId;
  std::string objectId;  // oid
  std::string appId;     // appid / azp
};

/// One parsed HTTP request after authentication.
struct Request {
  std::string method;                          // "GET", "PUT", ...
  std::string path;                            // percent-decoded, no query, original case
  std::map<std::string, std::string> query;    // keys lower-cased ("api-version")
  std::map<std::string, std::string> headers;  // names lower-cased
  Json body;                                   // null when the body was empty
  Caller caller;
};

struct Response {
  int status = 200;
  Json body;  // null: no body
  std::map<std::string, std::string> headers;

  static Response json(int status, Json body) { return {status, std::move(body), {}}; }
  static Response empty(int status) { return {status, nullptr, {}}; }
  /// The ARM error envelope {"error": {"code", "message"[, "target"]}}.
  static Response error(int status, const std::string& code, const std::string& message, const std::string& target = "");
};

/// An ARM path split into its parts. For
/// /subscriptions/S/resourceGroups/G/providers/Microsoft.NetApp/netAppAccounts/a/capacityPools/p/volumes/v
/// types = {"netAppAccounts","capacityPools","volumes"}, names = {"a","p","v"}; for a POST to
/// .../netAppAccounts/a/renewCredentials, types = {"netAppAccounts"}, names = {"a"}, action = "renewCredentials".
/// For extension resources (role assignments) `scope` is the resource id before "/providers/Microsoft.Authorization".
struct ArmPath {
  std::string subscriptionId;
  std::string resourceGroup;  // empty at subscription scope
  std::string providerNamespace;
  std::vector<std::string> types;
  std::vector<std::string> names;  // names.size() == types.size() for a resource, one less for a collection
  std::string action;              // trailing segment of a POST action, else empty
  std::string scope;               // for extension resources, else empty

  bool isCollection() const { return names.size() < types.size(); }
  /// The resource id (original case) of the resource named, or of the parent for a collection.
  std::string resourceId() const;
  /// "Microsoft.NetApp/netAppAccounts/capacityPools/volumes"
  std::string resourceType() const;
};

/// Every resource and Graph object, as JSON, keyed by lower-cased id. ARM resources use their ARM id;
/// Graph objects use "/tenants/{tid}/applications/{objectId}", "/tenants/{tid}/servicePrincipals/{objectId}",
/// and ".../applications/{objectId}/federatedIdentityCredentials/{id}". Resource groups use their ARM id.
class World {
 public:
  Clock clock;
  std::vector<Tenant> tenants;
  /// The unit of operation timing (--lro-seconds): an operation kind without a duration of its own takes its
  /// share of it (operationKinds()).
  std::chrono::seconds lroDuration{1};
  std::chrono::seconds featureRegistrationDelay{2};
  /// ANF fails a volume creation while another runs in the account (--serial-volume-creation, the world file's
  /// serialVolumeCreation); off by default.
  bool serialVolumeCreation = false;
  /// Durations set per operation kind (--operation-seconds, the world file's operationSeconds).
  std::map<std::string, std::chrono::milliseconds> operationDurations;
  /// How long an operation of `kind` takes: its own duration, else its share of lroDuration.
  std::chrono::milliseconds durationOf(const std::string& kind) const;
  /// Limits raised by a support request, per lower-cased subscription id: {"Microsoft.NetApp": {limit: value}}
  /// (netapp_limits.h names them). Set by the world file, persisted with the state.
  Json subscriptionLimits = Json::object();

  /// The stored resource, or nullptr. Ids compare case-insensitively.
  Json* find(const std::string& id);
  /// Stores (replaces) a resource under body["id"]; returns the stored copy.
  Json& put(Json resource);
  bool erase(const std::string& id);
  /// Direct children of `parentId` of a given type segment ("capacityPools"), in creation order.
  std::vector<Json*> children(const std::string& parentId, const std::string& typeSegment);
  /// Every resource whose id starts with `prefix` (case-insensitive), e.g. all role assignments.
  std::vector<Json*> withPrefix(const std::string& prefix);
  /// Every resource of `type` whose id starts with `prefix`, in creation order. Reads a per-type index so that a
  /// check over one type (volumes) costs what that type holds, not the whole world.
  std::vector<Json*> ofType(std::string_view type, const std::string& prefix);

  const Tenant* tenantOfSubscription(const std::string& subscriptionId) const;
  const Tenant* tenantById(const std::string& tenantId) const;
  std::string newGuid();
  std::string newEtag();

  Json toJson() const;              // --state file and GET /_emulator/state
  Json durationsJson() const;       // operationDurations: {kind: milliseconds}
  void loadJson(const Json& state);

 private:
  std::map<std::string, Json> resources_;  // lower-cased id -> resource
  std::vector<std::string> order_;         // lower-cased ids in creation order
  std::map<std::string, std::vector<std::string>, std::less<>> byType_;  // lower-cased type -> ids in creation order
  std::uint64_t counter_ = 0;
};

/// A long-running operation a provider starts. The core answers the initial request, serves the
/// operation URL under /subscriptions/{s}/providers/{ns}/locations/{loc}/operationResults/{guid}
/// (Azure-AsyncOperation: 200 + {"status": "InProgress"|"Succeeded"|"Failed", ...}; Location: 202 until
/// done, then finalStatus/finalBody), and runs `complete` under the world lock once world.durationOf(kind)
/// has passed on the emulator clock (lazily, before any later request is handled).
struct LongRunningOperation {
  enum class Poll { AzureAsyncOperation, Location, Both };
  std::string subscriptionId;
  std::string providerNamespace;  // "Microsoft.NetApp"
  std::string location;           // "eastus"
  std::string resourceId;         // the resource the operation acts on ("" if none)
  std::string kind;               // of operationKinds(): what sets its duration ("": one lroDuration)
  Poll poll = Poll::AzureAsyncOperation;
  int initialStatus = 201;        // 201 or 202
  Json initialBody;               // body of the initial response (null: none)
  /// Runs when the operation finishes. Returning an error Json {"code","message"} fails it
  /// (the resource's provisioningState becomes "Failed" when the provider says so).
  std::function<std::optional<Json>(World&)> complete;
  int finalStatus = 200;          // what the Location URL returns once done
  std::function<Json(World&)> finalBody;  // body for the Location URL once done (null: none)
};

/// What a provider may ask of the core while handling a request.
class Context {
 public:
  virtual ~Context() = default;
  virtual World& world() = 0;
  /// Registers a long-running operation and returns the initial response (with Azure-AsyncOperation
  /// and/or Location and Retry-After headers).
  virtual Response startOperation(LongRunningOperation&& operation) = 0;
  /// Is a long-running operation still running on this resource id (or below it)? For
  /// AnotherOperationInProgress on NetApp accounts.
  virtual bool operationInProgress(const std::string& resourceId) = 0;
};

/// One resource provider namespace.
class ResourceProvider {
 public:
  virtual ~ResourceProvider() = default;
  /// "Microsoft.NetApp"
  virtual std::string providerNamespace() const = 0;
  /// The api-versions this provider accepts; anything else gets InvalidApiVersionParameter from the core.
  virtual std::vector<std::string> apiVersions() const = 0;
  /// Handles an authenticated, api-version-checked, throttled ARM request under this namespace.
  /// The core has already checked that the subscription exists and belongs to the caller's tenant,
  /// and that the resource group exists (ResourceGroupNotFound).
  virtual Response handle(const Request& request, const ArmPath& path, Context& context) = 0;
};
using ResourceProviderPtr = std::unique_ptr<ResourceProvider>;

/// Every provider of emulator/providers/, one factory each.
ResourceProviderPtr makeNetAppProvider();
ResourceProviderPtr makeKeyVaultProvider();
ResourceProviderPtr makeNetworkProvider();
ResourceProviderPtr makeManagedIdentityProvider();
ResourceProviderPtr makeAuthorizationProvider();
ResourceProviderPtr makeFeaturesProvider();
ResourceProviderPtr makeResourcesProvider();  // resource groups (Microsoft.Resources)

}  // namespace anf::emulator
