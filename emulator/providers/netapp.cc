// Microsoft.NetApp provider; behaviour documented in netapp.h.
#include "emulator/providers/netapp.h"

#include <regex>

#include "emulator/providers/arm.h"
#include "emulator/providers/directory.h"
#include "emulator/providers/features.h"
#include "emulator/providers/key_access.h"
#include "emulator/providers/key_checks.h"
#include "emulator/providers/netapp_limits.h"
#include "emulator/providers/private_link.h"

namespace anf::emulator {
namespace {

constexpr const char* kAccountType = "Microsoft.NetApp/netAppAccounts";
constexpr const char* kPoolType = "Microsoft.NetApp/netAppAccounts/capacityPools";
constexpr const char* kVolumeType = "Microsoft.NetApp/netAppAccounts/capacityPools/volumes";
constexpr const char* kIdentityType = "Microsoft.ManagedIdentity/userAssignedIdentities";
constexpr const char* kKeyVault = "Microsoft.KeyVault";
constexpr const char* kNetApp = "Microsoft.NetApp";
constexpr std::int64_t kTiB = netapplimits::kTiB;

using arm::Error;
namespace kc = keychecks;

// ---------------------------------------------------------------- small helpers

Error invalid(const std::string& code, const std::string& message) { return Error{400, code, message, ""}; }

bool hasSystem(const Json& account) {
  return arm::lower(arm::stringAt(account, "/identity/type")).find("systemassigned") != std::string::npos;
}
bool isCmk(const Json& account) { return arm::iequals(arm::stringAt(account, "/properties/encryption/keySource"), kKeyVault); }

std::string accountIdOf(const std::string& childId) {
  std::string lowered = arm::lower(childId);
  auto at = lowered.find("/capacitypools/");
  return at == std::string::npos ? childId : childId.substr(0, at);
}

std::vector<Json*> volumesOf(World& world, const std::string& accountId) {
  std::vector<Json*> volumes;
  for (Json* pool : world.children(accountId, "capacityPools")) {
    for (Json* volume : world.children(pool->value("id", std::string{}), "volumes")) volumes.push_back(volume);
  }
  return volumes;
}

std::string vnetOfVolume(const Json& volume) { return kc::vnetOfSubnet(arm::stringAt(volume, "/properties/subnetId")); }

// The VNets (ids, first-seen case) holding the account's CMK volumes, each with the endpoint its first volume uses.
std::vector<std::pair<std::string, std::string>> cmkVnets(World& world, const std::string& accountId) {
  std::vector<std::pair<std::string, std::string>> vnets;
  for (Json* volume : volumesOf(world, accountId)) {
    if (!arm::iequals(arm::stringAt(*volume, "/properties/encryptionKeySource"), kKeyVault)) continue;
    std::string vnet = vnetOfVolume(*volume);
    bool seen = std::ranges::any_of(vnets, [&](const auto& v) { return arm::sameId(v.first, vnet); });
    if (!seen) vnets.emplace_back(vnet, arm::stringAt(*volume, "/properties/keyVaultPrivateEndpointResourceId"));
  }
  return vnets;
}

Response anotherOperation(const std::string& id) {
  return Response::error(409, "AnotherOperationInProgress",
                         "Another operation is in progress on resource '" + id + "'. Retry once it has completed.");
}

/// ARM's answer to a write to a resource whose provisioningState is not terminal (its last operation runs), in
/// Azure's words as quoted for an ANF volume in Azure/az-hop issue #265.
Response requestConflict(const std::string& id) {
  return Response::error(409, "RequestConflict",
                         "Cannot modify resource with id '" + id + "' because the resource entity provisioning state is not terminal. "
                         "Please wait for the provisioning state to become terminal and then retry the request.");
}

bool provisioningTerminal(const Json& resource) {
  std::string state = arm::stringAt(resource, "/properties/provisioningState", "Succeeded");
  return state == "Succeeded" || state == "Failed" || state == "Canceled";
}

/// The answer to a write to a pool or volume while an operation runs: on the resource itself ARM's RequestConflict,
/// below it (a pool while one of its volumes changes) AnotherOperationInProgress; nullopt when none runs. Accounts
/// keep AnotherOperationInProgress for both (netapp.h): no public quote shows ARM's guard on a NetApp account.
std::optional<Response> writeConflict(Context& context, const Json* existing, const std::string& id) {
  if (existing && !provisioningTerminal(*existing)) return requestConflict(id);
  if (context.operationInProgress(id)) return anotherOperation(id);
  return std::nullopt;
}

/// Azure's code and words (its spelling), from Azure/azure-quickstart-templates issue #8646: "PreconditionFailed:
/// Volume Cannot be created in a pool that is not in state succeded." The HTTP status is not quoted: 400 is ours.
Response poolNotSucceeded() {
  return Response::error(400, "PreconditionFailed", "Volume Cannot be created in a pool that is not in state succeded.");
}

/// Whether a volume of the account other than `volumeId` is being created.
bool anotherVolumeCreating(World& world, const std::string& accountId, const std::string& volumeId) {
  return std::ranges::any_of(volumesOf(world, accountId), [&](Json* volume) {
    return !arm::sameId(volume->value("id", std::string{}), volumeId) && arm::stringAt(*volume, "/properties/provisioningState") == "Creating";
  });
}

/// ANF's failed operation (World::serialVolumeCreation), in its words as quoted in hashicorp/terraform-provider-azurerm
/// pull request #33215: Status "Failed", Code "Conflict", Message "Unable to create volume '...'. Another volume
/// creation is in progress. Please try again in a few minutes."
Error anotherVolumeCreation(const std::string& volumeName) {
  return Error{409, "Conflict",
               "Unable to create volume '" + volumeName + "'. Another volume creation is in progress. Please try again in a few minutes.", ""};
}

/// MiB/s a service level gives `bytes` of capacity (the ANF service levels: Standard 16, Premium 64, Ultra 128 per TiB).
double throughputOf(const std::string& serviceLevel, std::int64_t bytes) {
  double perTiB = serviceLevel == "Ultra" ? 128 : serviceLevel == "Premium" ? 64 : 16;
  return perTiB * static_cast<double>(bytes) / static_cast<double>(kTiB);
}

Response featureNotRegistered(const std::string& subscriptionId, const std::string& feature) {
  return arm::badRequest("FeatureNotRegistered",
                         "The subscription '" + subscriptionId + "' is not registered for the feature 'Microsoft.NetApp/" + feature +
                             "'. Register it with 'az feature register --namespace Microsoft.NetApp --name " + feature +
                             "' and wait until its state is Registered.");
}

std::string canonicalKeySource(const std::string& value) {
  if (arm::iequals(value, kKeyVault)) return kKeyVault;
  if (value.empty() || arm::iequals(value, kNetApp)) return kNetApp;
  return "";
}

std::string canonicalIdentityType(const std::string& value) {
  std::string lowered = arm::lower(value);
  std::erase(lowered, ' ');
  if (lowered == "systemassigned") return "SystemAssigned";
  if (lowered == "userassigned") return "UserAssigned";
  if (lowered == "systemassigned,userassigned") return "SystemAssigned,UserAssigned";
  if (lowered == "none") return "None";
  return "";
}

Json* userIdentity(World& world, const std::string& id) { return arm::findTyped(world, id, kIdentityType); }

// ---------------------------------------------------------------- key access of the identity in use

/// The identity whose token ANF uses with the vault, as far as the account alone says.
struct IdentityInUse {
  std::string principalId;        // recorded as encryption.identity.principalId
  std::string tenantId;           // the principal's tenant
  std::string userAssignedId;     // "" for the system identity
  std::string federatedClientId;  // cross-tenant application, or ""
};

std::expected<IdentityInUse, Error> identityInUse(World& world, const Json& account) {
  std::string uami = arm::stringAt(account, "/properties/encryption/identity/userAssignedIdentity");
  std::string federated = arm::stringAt(account, "/properties/encryption/identity/federatedClientId");
  if (!uami.empty()) {
    Json* identity = userIdentity(world, uami);
    if (identity == nullptr) {
      return std::unexpected(invalid("InvalidUserAssignedIdentity", "The user-assigned identity '" + uami + "' was not found."));
    }
    return IdentityInUse{arm::stringAt(*identity, "/properties/principalId"), arm::stringAt(*identity, "/properties/tenantId"), uami,
                         federated};
  }
  if (hasSystem(account)) {
    return IdentityInUse{arm::stringAt(account, "/identity/principalId"), arm::stringAt(account, "/identity/tenantId"), "", ""};
  }
  return std::unexpected(invalid("InvalidEncryptionIdentity",
                                 "Encryption with Microsoft.KeyVault needs a managed identity: set identity.type SystemAssigned, or "
                                 "UserAssigned with properties.encryption.identity.userAssignedIdentity."));
}

Error keyUnusable(std::string detail) { return kc::error(kc::kCodeKeyUnusable, kc::kKeyUnusable, std::move(detail)); }

/// kKeyUnusable with the missing link, or nullopt when the identity in use can get/encrypt/decrypt with `key`.
std::optional<Error> keyAccessError(World& world, const Json& account, const Json& vault, const Json* key) {
  auto identity = identityInUse(world, account);
  if (!identity) return keyUnusable(identity.error().message);
  std::string tenantId = identity->tenantId;
  std::string objectId = identity->principalId;
  if (!identity->federatedClientId.empty()) {
    // Cross-tenant: the UAMI signs an assertion for the application, whose SP in the vault's tenant uses the key.
    std::string accountTenant = identity->tenantId;
    const std::string& appId = identity->federatedClientId;
    Json* application = directory::applicationByAppId(world, accountTenant, appId);
    if (application == nullptr) {
      return keyUnusable("AADSTS700016: Application with identifier '" + appId + "' was not found in the directory '" + accountTenant + "'.");
    }
    std::string issuer = "https://login.microsoftonline.com/" + accountTenant + "/v2.0";
    bool trusted = false;
    for (Json* credential : directory::federatedCredentials(world, accountTenant, directory::objectIdOf(*application))) {
      bool audienceOk = false;
      for (const auto& audience : credential->value("audiences", Json::array())) {
        audienceOk = audienceOk || (audience.is_string() && arm::iequals(audience.get<std::string>(), "api://AzureADTokenExchange"));
      }
      // The emulator's own Entra ({base}/{tenant}/v2.0 on loopback) is the same issuer, as in entra.cc.
      std::string fic = credential->value("issuer", std::string{});
      while (fic.ends_with("/")) fic.pop_back();
      const bool ownEntra = (fic.starts_with("https://127.0.0.1:") || fic.starts_with("https://localhost:")) &&
                            fic.ends_with("/" + accountTenant + "/v2.0") &&
                            fic.find('/', std::string("https://").size()) == fic.size() - accountTenant.size() - 6;
      trusted = trusted || (arm::iequals(credential->value("subject", std::string{}), identity->principalId) &&
                            (arm::iequals(fic, issuer) || ownEntra) && audienceOk);
    }
    if (!trusted) {
      return keyUnusable("AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '" + issuer +
                         "'. Assertion Subject: '" + identity->principalId + "'. Assertion Audience: 'api://AzureADTokenExchange'.");
    }
    tenantId = keyaccess::vaultTenant(vault);
    auto servicePrincipal = directory::servicePrincipalOf(world, tenantId, appId);
    if (!servicePrincipal) {
      return keyUnusable("AADSTS700016: Application with identifier '" + appId + "' was not found in the directory '" + tenantId +
                         "'. This can happen if the application has not been installed by the administrator of the tenant or "
                         "consented to by any user in the tenant.");
    }
    objectId = *servicePrincipal;
  }
  if (objectId.empty()) return keyUnusable("The account has no principal for its identity.");
  std::string missing = keyaccess::missingKeyAccess(world, vault, tenantId, objectId);
  if (!missing.empty()) return keyUnusable(missing);
  if (key != nullptr) {
    std::string reason = kc::keyUnusableReason(world, *key);
    if (!reason.empty()) return keyUnusable(reason + ".");
  }
  return std::nullopt;
}

Json* accountVault(World& world, const Json& account) {
  return kc::vaultByUri(world, arm::stringAt(account, "/properties/encryption/keyVaultProperties/keyVaultUri"));
}

Json* accountKey(World& world, const Json& account, const Json& vault) {
  return arm::findTyped(world,
                        vault.value("id", std::string{}) + "/keys/" + arm::stringAt(account, "/properties/encryption/keyVaultProperties/keyName"),
                        "Microsoft.KeyVault/vaults/keys");
}

/// The account's key is usable right now by the identity in use (vault found, access, key active).
std::optional<Error> accountKeyError(World& world, const Json& account) {
  Json* vault = accountVault(world, account);
  if (vault == nullptr) return keyUnusable("The account's key vault no longer exists.");
  Json* key = accountKey(world, account, *vault);
  if (key == nullptr) return keyUnusable(std::string(kc::kKeyNotFound) + ".");
  return keyAccessError(world, account, *vault, key);
}

// ---------------------------------------------------------------- operations

LongRunningOperation operationFor(const Json& resource, LongRunningOperation::Poll poll, int status) {
  LongRunningOperation operation;
  std::string id = resource.value("id", std::string{});
  operation.subscriptionId = arm::subscriptionOf(id);
  operation.providerNamespace = kNetApp;
  operation.location = resource.value("location", std::string("eastus"));
  operation.resourceId = id;
  std::string type = resource.value("type", std::string{});
  operation.kind = type == kVolumeType ? "volume" : type == kPoolType ? "pool" : "account";
  operation.poll = poll;
  operation.initialStatus = status;
  operation.initialBody = arm::publicView(resource);
  operation.finalBody = [id](World& world) -> Json {
    Json* current = world.find(id);
    return current ? arm::publicView(*current) : Json();
  };
  return operation;
}

std::optional<Json> failWith(World& world, const std::string& id, const Error& error, bool markKeyError) {
  if (Json* resource = world.find(id)) {
    (*resource)["properties"]["provisioningState"] = "Failed";
    if (markKeyError && isCmk(*resource)) (*resource)["properties"]["encryption"]["keyVaultProperties"]["status"] = "Error";
    (*resource)["etag"] = world.newEtag();
  }
  return error.toJson();
}

std::function<std::optional<Json>(World&)> deleteWhenDone(const std::string& id) {
  return [id](World& world) -> std::optional<Json> {
    if (const Json* resource = world.find(id)) directory::unregisterResourcePrincipal(world, *resource);
    std::vector<std::string> doomed;
    for (Json* child : world.withPrefix(id + "/")) doomed.push_back(child->value("id", std::string{}));
    for (const auto& victim : doomed) world.erase(victim);
    world.erase(id);
    return std::nullopt;
  };
}

/// A capacity pool or a volume: its parent's type, its segment below the parent, its type, and the segment of
/// the children that must be gone before it is deleted (nullptr: none).
struct ChildResource {
  const char* parentType;
  const char* segment;
  const char* type;
  const char* nested;
};

/// What pools and volumes answer alike: the parent must exist; the collection lists the children; the resource
/// answers GET, refuses other methods than PUT, PATCH and DELETE, PATCH of a missing one (DELETE of it: 204) and any
/// write while an operation runs on it; DELETE starts the operation that removes it once no `nested` child is left.
/// Returns that answer, or nullopt for a PUT or PATCH to go on with, `parent` and `existing` (nullptr when new) set.
std::optional<Response> childRequest(const Request& request, const ArmPath& path, Context& context, const ChildResource& child,
                                     Json*& parent, Json*& existing) {
  World& world = context.world();
  std::string parentId = path.isCollection() ? path.resourceId() : arm::parentId(path.resourceId());
  parent = arm::findTyped(world, parentId, child.parentType);
  if (parent == nullptr) return arm::parentNotFound(parentId);
  if (path.isCollection()) {
    if (request.method != "GET") return arm::methodNotAllowed(request);
    std::vector<Json> items;
    for (Json* item : world.children(parentId, child.segment)) items.push_back(arm::publicView(*item));
    return arm::listPage(request, std::move(items));
  }
  std::string id = path.resourceId();
  existing = arm::findTyped(world, id, child.type);
  if (auto failed = arm::checkPreconditions(request, existing)) return *failed;
  if (request.method == "GET") return existing ? arm::ok(*existing) : arm::resourceNotFound(child.type, id);
  if (request.method != "PUT" && request.method != "PATCH" && request.method != "DELETE") return arm::methodNotAllowed(request);
  if (!existing && request.method != "PUT") {
    return request.method == "DELETE" ? Response::empty(204) : arm::resourceNotFound(child.type, id);
  }
  if (auto conflict = writeConflict(context, existing, id)) return conflict;
  if (request.method != "DELETE") return std::nullopt;
  if (child.nested != nullptr && !world.children(id, child.nested).empty()) {
    return Response::error(409, "CannotDeleteResource", "Can not delete resource before nested resources are deleted.");
  }
  (*existing)["properties"]["provisioningState"] = "Deleting";
  LongRunningOperation operation = operationFor(*existing, LongRunningOperation::Poll::Location, 202);
  operation.initialBody = nullptr;
  operation.finalBody = nullptr;
  operation.complete = deleteWhenDone(id);
  return context.startOperation(std::move(operation));
}

// ---------------------------------------------------------------- accounts

/// Registers a newly enabled system-assigned identity as a principal, or removes a disabled one.
void syncSystemPrincipal(World& world, const Json* before, const Json& after) {
  std::string oldPrincipal = before && hasSystem(*before) ? arm::stringAt(*before, "/identity/principalId") : "";
  std::string newPrincipal = hasSystem(after) ? arm::stringAt(after, "/identity/principalId") : "";
  if (oldPrincipal == newPrincipal) return;
  if (!oldPrincipal.empty()) directory::unregisterPrincipal(world, arm::stringAt(*before, "/identity/tenantId"), oldPrincipal);
  if (!newPrincipal.empty()) {
    directory::registerManagedIdentity(world, arm::stringAt(after, "/identity/tenantId"), newPrincipal, world.newGuid(),
                                       after.value("name", std::string{}), after.value("id", std::string{}));
  }
}

/// The writable part of an account body (read-only fields dropped).
Json writableAccount(const Json& body) {
  Json out = Json::object();
  if (body.contains("location")) out["location"] = body["location"];
  if (body.contains("tags")) out["tags"] = body["tags"];
  if (body.contains("identity") && body["identity"].is_object()) {
    const Json& identity = body["identity"];
    Json writable = Json::object();
    if (identity.contains("type")) writable["type"] = identity["type"];
    if (identity.contains("userAssignedIdentities") && identity["userAssignedIdentities"].is_object()) {
      writable["userAssignedIdentities"] = Json::object();
      for (const auto& [key, value] : identity["userAssignedIdentities"].items()) {
        writable["userAssignedIdentities"][key] = value.is_null() ? Json() : Json::object();
      }
    }
    out["identity"] = writable;
  } else if (body.contains("identity") && body["identity"].is_null()) {
    out["identity"] = nullptr;
  }
  const Json properties = body.value("properties", Json::object());
  if (!properties.is_object()) return out;
  Json writable = Json::object();
  for (const char* key : {"activeDirectories", "nfsV4IDDomain", "ldapConfiguration", "entraIdConfig"}) {
    if (properties.contains(key)) writable[key] = properties[key];
  }
  if (properties.contains("encryption") && properties["encryption"].is_object()) {
    const Json& encryption = properties["encryption"];
    Json e = Json::object();
    if (encryption.contains("keySource")) e["keySource"] = encryption["keySource"];
    if (encryption.contains("keyVaultProperties") && encryption["keyVaultProperties"].is_object()) {
      Json kv = Json::object();
      for (const char* key : {"keyVaultUri", "keyName", "keyVaultResourceId"}) {
        if (encryption["keyVaultProperties"].contains(key)) kv[key] = encryption["keyVaultProperties"][key];
      }
      e["keyVaultProperties"] = kv;
    }
    if (encryption.contains("identity") && encryption["identity"].is_object()) {
      Json i = Json::object();
      for (const char* key : {"userAssignedIdentity", "federatedClientId"}) {
        if (encryption["identity"].contains(key)) i[key] = encryption["identity"][key];
      }
      e["identity"] = i;
    }
    writable["encryption"] = e;
  }
  out["properties"] = writable;
  return out;
}

class NetAppProvider final : public ResourceProvider {
 public:
  std::string providerNamespace() const override { return kNetApp; }
  std::vector<std::string> apiVersions() const override { return {"2022-05-01", "2023-05-01", "2024-01-01-preview", "2025-06-01"}; }

  Response handle(const Request& raw, const ArmPath& path, Context& context) override {
    // An account PATCH keeps its nulls: in a merge patch they delete (a user-assigned identity detached by null).
    bool accountPatch = raw.method == "PATCH" && path.types.size() == 1 && path.action.empty();
    const Request request = accountPatch ? raw : arm::withoutNulls(raw);
    if (path.types.empty() || !arm::iequals(path.types[0], "netAppAccounts")) return unknownType(path);
    if (path.types.size() == 1) {
      if (!path.action.empty()) return accountAction(request, path, context);
      return accounts(request, path, context);
    }
    if (path.types.size() == 2 && arm::iequals(path.types[1], "capacityPools") && path.action.empty()) return pools(request, path, context);
    if (path.types.size() == 3 && arm::iequals(path.types[1], "capacityPools") && arm::iequals(path.types[2], "volumes") &&
        path.action.empty()) {
      return volumes(request, path, context);
    }
    return unknownType(path);
  }

 private:
  static Response unknownType(const ArmPath& path) {
    return Response::error(400, "InvalidResourceType", "The resource type '" + path.resourceType() + "' could not be found in the namespace 'Microsoft.NetApp'.");
  }

  // ------------------------------------------------ accounts

  Response accounts(const Request& request, const ArmPath& path, Context& context) {
    World& world = context.world();
    if (path.isCollection()) {
      if (request.method != "GET") return arm::methodNotAllowed(request);
      std::vector<Json> items;
      for (Json* account : arm::ofType(world, kAccountType, path.resourceId())) items.push_back(arm::publicView(*account));
      return arm::listPage(request, std::move(items));
    }
    std::string id = path.resourceId();
    Json* existing = arm::findTyped(world, id, kAccountType);
    if (auto failed = arm::checkPreconditions(request, existing)) return *failed;
    if (request.method == "GET") return existing ? arm::ok(*existing) : arm::resourceNotFound(kAccountType, id);
    if (request.method != "PUT" && request.method != "PATCH" && request.method != "DELETE") return arm::methodNotAllowed(request);
    if (!existing && request.method != "PUT") {
      return request.method == "DELETE" ? Response::empty(204) : arm::resourceNotFound(kAccountType, id);
    }
    if (existing && context.operationInProgress(id)) return anotherOperation(id);
    if (request.method == "DELETE") {
      if (!world.children(id, "capacityPools").empty()) {
        return Response::error(409, "CannotDeleteResource", "Can not delete resource before nested resources are deleted.");
      }
      (*existing)["properties"]["provisioningState"] = "Deleting";
      LongRunningOperation operation = operationFor(*existing, LongRunningOperation::Poll::Location, 202);
      operation.initialBody = nullptr;
      operation.complete = deleteWhenDone(id);
      operation.finalBody = nullptr;
      return context.startOperation(std::move(operation));
    }
    if (auto bad = arm::checkObjectBody(request)) return *bad;
    if (auto bad = arm::checkName(path.names[0], R"(^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,127}$)", kAccountType)) return *bad;
    Json desired;
    if (request.method == "PUT") {
      if (auto bad = arm::checkLocation(request.body)) return *bad;
      if (!existing) {
        if (auto refused = netapplimits::newAccountRefusal(world, path.subscriptionId, request.body.value("location", std::string{}))) {
          return refused->toResponse();
        }
      }
      desired = writableAccount(request.body);
    } else {
      desired = writableAccount(*existing);
      Json patch = writableAccount(request.body);
      // A new vault URI without a resource id names another vault: the stored id would contradict it.
      Json::json_pointer uri("/properties/encryption/keyVaultProperties/keyVaultUri");
      Json::json_pointer resourceId("/properties/encryption/keyVaultProperties/keyVaultResourceId");
      if (patch.contains(uri) && !patch.contains(resourceId) && desired.contains(resourceId)) desired.at(resourceId.parent_pointer()).erase("keyVaultResourceId");
      arm::mergePatch(desired, patch);
    }
    auto next = buildAccount(world, path, existing, std::move(desired));
    if (!next) return next.error().toResponse();
    syncSystemPrincipal(world, existing, *next);
    bool becomesCmk = isCmk(*next) && (!existing || !isCmk(*existing) ||
                                       arm::stringAt(*existing, "/properties/encryption/identity/principalId").empty());
    bool encryptionTouched = isCmk(*next) && (becomesCmk || request.method == "PUT" || request.body.contains("identity") ||
                                              (request.body.contains("properties") && request.body["properties"].contains("encryption")));
    bool created = existing == nullptr;
    (*next)["properties"]["provisioningState"] = created ? "Creating" : (request.method == "PATCH" ? "Patching" : "Updating");
    if (encryptionTouched) (*next)["properties"]["encryption"]["keyVaultProperties"]["status"] = "Updating";
    Json& stored = world.put(std::move(*next));
    LongRunningOperation operation = request.method == "PUT" ? operationFor(stored, LongRunningOperation::Poll::AzureAsyncOperation, 201)
                                                             : operationFor(stored, LongRunningOperation::Poll::Location, 202);
    operation.complete = [id, encryptionTouched, becomesCmk](World& w) -> std::optional<Json> {
      Json* account = w.find(id);
      if (account == nullptr) return Json{{"code", "ResourceNotFound"}, {"message", "The account was deleted."}};
      if (encryptionTouched) {
        if (auto error = accountKeyError(w, *account)) return failWith(w, id, *error, true);
        if (becomesCmk) {
          if (auto identity = identityInUse(w, *account)) (*account)["properties"]["encryption"]["identity"]["principalId"] = identity->principalId;
        }
        (*account)["properties"]["encryption"]["keyVaultProperties"]["status"] = "InUse";
      }
      (*account)["properties"]["provisioningState"] = "Succeeded";
      (*account)["etag"] = w.newEtag();
      return std::nullopt;
    };
    return context.startOperation(std::move(operation));
  }

  /// The account as it will be stored, or the synchronous error that refuses the request.
  std::expected<Json, Error> buildAccount(World& world, const ArmPath& path, const Json* existing, Json desired) {
    std::string id = path.resourceId();
    Json account = existing ? *existing : Json{{"id", id}, {"name", path.names[0]}, {"type", kAccountType}, {"properties", Json::object()}};
    if (desired.contains("location") && !desired["location"].is_string()) return std::unexpected(invalid("InvalidLocation", "location must be a string."));
    if (existing && desired.contains("location") && !arm::iequals(desired["location"].get<std::string>(), existing->value("location", std::string{}))) {
      return std::unexpected(invalid("LocationCannotBeChanged", "The location of a NetApp account cannot be changed."));
    }
    account["location"] = desired.value("location", account.value("location", std::string{}));
    account["tags"] = desired.value("tags", Json::object());
    account["etag"] = world.newEtag();

    // identity
    const Tenant* tenant = world.tenantOfSubscription(path.subscriptionId);
    std::string tenantId = tenant ? tenant->tenantId : "";
    Json identity = desired.value("identity", Json());
    if (identity.is_object()) {
      std::string type = canonicalIdentityType(identity.value("type", std::string{}));
      if (type.empty()) {
        return std::unexpected(invalid("InvalidIdentityType", "identity.type must be one of None, SystemAssigned, UserAssigned, SystemAssigned,UserAssigned."));
      }
      Json out{{"type", type}};
      bool wasSystem = existing && hasSystem(*existing);
      if (type.find("SystemAssigned") != std::string::npos) {
        out["principalId"] = wasSystem ? arm::stringAt(*existing, "/identity/principalId") : world.newGuid();
        out["tenantId"] = tenantId;
      }
      if (type.find("UserAssigned") != std::string::npos) {
        Json users = identity.value("userAssignedIdentities", Json::object());
        if (users.empty()) {
          return std::unexpected(invalid("InvalidIdentity", "identity.userAssignedIdentities must name at least one identity when identity.type is " + type + "."));
        }
        Json resolved = Json::object();
        for (const auto& [uamiId, ignored] : users.items()) {
          Json* uami = userIdentity(world, uamiId);
          if (uami == nullptr) {
            return std::unexpected(invalid("FailedIdentityOperation",
                                           "Identity operation for resource '" + id + "' failed: the user-assigned identity '" + uamiId + "' was not found."));
          }
          resolved[uamiId] = Json{{"principalId", arm::stringAt(*uami, "/properties/principalId")},
                                  {"clientId", arm::stringAt(*uami, "/properties/clientId")}};
        }
        out["userAssignedIdentities"] = resolved;
      }
      account["identity"] = out;
    } else {
      account.erase("identity");
    }

    // properties
    Json properties = desired.value("properties", Json::object());
    Json& out = account["properties"];
    for (const char* key : {"activeDirectories", "nfsV4IDDomain", "ldapConfiguration", "entraIdConfig"}) {
      if (properties.contains(key)) {
        out[key] = properties[key];
      } else {
        out.erase(key);
      }
    }
    out["disableShowmount"] = out.value("disableShowmount", Json());
    out["multiAdStatus"] = "Disabled";
    Json encryption = properties.value("encryption", Json::object());
    std::string keySource = canonicalKeySource(encryption.value("keySource", std::string{}));
    if (keySource.empty()) {
      return std::unexpected(invalid("InvalidKeySource", "encryption.keySource must be Microsoft.NetApp or Microsoft.KeyVault."));
    }
    if (existing && isCmk(*existing) && keySource == kNetApp) {
      return std::unexpected(invalid("InvalidKeySourceChange",
                                     "The encryption keySource of a NetApp account cannot be changed from Microsoft.KeyVault back to Microsoft.NetApp."));
    }
    if (keySource == kNetApp) {
      out["encryption"] = Json{{"keySource", kNetApp}};
      return account;
    }
    Json kv = encryption.value("keyVaultProperties", Json::object());
    Json encryptionIdentity = encryption.value("identity", Json::object());
    std::string uami = encryptionIdentity.value("userAssignedIdentity", std::string{});
    std::string federated = encryptionIdentity.value("federatedClientId", std::string{});
    if (!uami.empty()) {
      bool attached = false;
      if (account.contains("identity") && account["identity"].contains("userAssignedIdentities")) {
        for (const auto& [key, value] : account["identity"]["userAssignedIdentities"].items()) attached = attached || arm::sameId(key, uami);
      }
      if (!attached) {
        return std::unexpected(invalid("InvalidEncryptionIdentity",
                                       "encryption.identity.userAssignedIdentity '" + uami + "' must be one of identity.userAssignedIdentities."));
      }
    } else if (!hasSystem(account)) {
      return std::unexpected(invalid("InvalidEncryptionIdentity",
                                     "Encryption with Microsoft.KeyVault needs a managed identity: set identity.type SystemAssigned, or "
                                     "UserAssigned with properties.encryption.identity.userAssignedIdentity."));
    }
    if (!federated.empty()) {
      if (uami.empty()) {
        return std::unexpected(invalid("InvalidEncryptionIdentity",
                                       "encryption.identity.federatedClientId needs encryption.identity.userAssignedIdentity."));
      }
      if (!features::isRegistered(world, path.subscriptionId, kNetApp, "ANFCrossTenantCMK")) {
        const Response refused = featureNotRegistered(path.subscriptionId, "ANFCrossTenantCMK");
        return std::unexpected(Error{400, "FeatureNotRegistered", refused.body["error"]["message"], ""});
      }
    }
    std::string uri = kv.value("keyVaultUri", std::string{});
    std::string keyName = kv.value("keyName", std::string{});
    auto target = kc::checkAccountKey(world, uri, keyName, kv.value("keyVaultResourceId", std::string{}), account["location"]);
    if (!target) return std::unexpected(target.error());
    std::string vaultId = target->vault->value("id", std::string{});
    if (existing && isCmk(*existing)) {
      Json* before = accountVault(world, *existing);
      if (before && !arm::sameId(before->value("id", std::string{}), vaultId) && !cmkVnets(world, id).empty()) {
        return std::unexpected(invalid("KeyVaultChangeNotSupported",
                                       "The key vault of an account with customer-managed key volumes cannot be changed by an update; "
                                       "use the changeKeyVault action with a private endpoint for every virtual network."));
      }
    }
    Json previous = existing && isCmk(*existing) ? (*existing)["properties"]["encryption"] : Json::object();
    Json keyVaultProperties{{"keyVaultId", arm::stringAt(previous, "/keyVaultProperties/keyVaultId", world.newGuid())},
                            {"keyVaultUri", uri},
                            {"keyName", keyName},
                            {"keyVaultResourceId", vaultId},
                            {"status", arm::stringAt(previous, "/keyVaultProperties/status", "Created")}};
    Json identityOut = Json::object();
    if (previous.contains("identity") && previous["identity"].contains("principalId")) identityOut["principalId"] = previous["identity"]["principalId"];
    if (!uami.empty()) identityOut["userAssignedIdentity"] = uami;
    if (!federated.empty()) identityOut["federatedClientId"] = federated;
    out["encryption"] = Json{{"keySource", kKeyVault}, {"keyVaultProperties", keyVaultProperties}, {"identity", identityOut}};
    return account;
  }

  Response accountAction(const Request& request, const ArmPath& path, Context& context) {
    World& world = context.world();
    std::string id = path.resourceId();
    if (request.method != "POST") return arm::methodNotAllowed(request);
    Json* account = arm::findTyped(world, id, kAccountType);
    if (account == nullptr) return arm::resourceNotFound(kAccountType, id);
    std::string action = arm::lower(path.action);
    if (action == "getkeyvaultstatus") return keyVaultStatus(world, *account);
    if (action != "renewcredentials" && action != "transitiontocmk" && action != "changekeyvault") {
      return Response::error(400, "InvalidResourceType", "The action '" + path.action + "' is not supported on NetApp accounts.");
    }
    if (context.operationInProgress(id)) return anotherOperation(id);
    if (!isCmk(*account)) {
      return kc::error(kc::kCodeAccountNotCmk, kc::kAccountNotCmk,
                       "The action " + path.action + " needs an account encrypted with Microsoft.KeyVault.").toResponse();
    }
    Json body = request.body.is_object() ? request.body : Json::object();
    if (action == "renewcredentials") return renewCredentials(context, *account);
    if (action == "transitiontocmk") return transitionToCmk(context, path, *account, body);
    return changeKeyVault(context, *account, body);
  }

  Response keyVaultStatus(World& world, const Json& account) {
    if (!isCmk(account)) {
      return kc::error(kc::kCodeAccountNotCmk, kc::kAccountNotCmk, "The account is not encrypted with Microsoft.KeyVault.").toResponse();
    }
    Json endpoints = Json::array();
    for (const auto& [vnet, endpoint] : cmkVnets(world, account.value("id", std::string{}))) {
      endpoints.push_back(Json{{"virtualNetworkId", vnet}, {"privateEndpointId", endpoint}});
    }
    const Json& kv = account["properties"]["encryption"]["keyVaultProperties"];
    return Response::json(200, Json{{"properties",
                                     {{"keyVaultUri", kv.value("keyVaultUri", std::string{})},
                                      {"keyName", kv.value("keyName", std::string{})},
                                      {"keyVaultResourceId", kv.value("keyVaultResourceId", std::string{})},
                                      {"keyVaultPrivateEndpoints", endpoints}}}});
  }

  Response renewCredentials(Context& context, Json& account) {
    std::string id = account.value("id", std::string{});
    LongRunningOperation operation = operationFor(account, LongRunningOperation::Poll::Location, 202);
    operation.kind = "renewCredentials";
    operation.initialBody = nullptr;
    operation.finalBody = nullptr;
    operation.complete = [id](World& w) -> std::optional<Json> {
      Json* current = w.find(id);
      if (current == nullptr) return Json{{"code", "ResourceNotFound"}, {"message", "The account was deleted."}};
      if (auto error = accountKeyError(w, *current)) return error->toJson();
      auto identity = identityInUse(w, *current);
      (*current)["properties"]["encryption"]["identity"]["principalId"] = identity->principalId;
      (*current)["properties"]["encryption"]["keyVaultProperties"]["status"] = "InUse";
      (*current)["etag"] = w.newEtag();
      return std::nullopt;
    };
    return context.startOperation(std::move(operation));
  }

  Response transitionToCmk(Context& context, const ArmPath& path, Json& account, const Json& body) {
    World& world = context.world();
    if (!features::isRegistered(world, path.subscriptionId, kNetApp, "ANFMigratePmkToCmk")) {
      return featureNotRegistered(path.subscriptionId, "ANFMigratePmkToCmk");
    }
    std::string vnetId = body.value("virtualNetworkId", std::string{});
    std::string endpointId = body.value("privateEndpointId", std::string{});
    if (vnetId.empty() || endpointId.empty()) {
      return arm::badRequest("InvalidParameter", "virtualNetworkId and privateEndpointId are required.");
    }
    if (arm::findTyped(world, vnetId, "Microsoft.Network/virtualNetworks") == nullptr) {
      return arm::badRequest("InvalidResourceReference", "The virtual network " + vnetId + " was not found.", "virtualNetworkId");
    }
    std::string id = account.value("id", std::string{});
    LongRunningOperation operation = operationFor(account, LongRunningOperation::Poll::Both, 202);
    operation.kind = "transitionToCmk";
    operation.initialBody = nullptr;
    operation.finalBody = nullptr;
    operation.complete = [id, vnetId, endpointId](World& w) -> std::optional<Json> {
      Json* current = w.find(id);
      if (current == nullptr) return Json{{"code", "ResourceNotFound"}, {"message", "The account was deleted."}};
      Json* vault = accountVault(w, *current);
      if (vault == nullptr) return keyUnusable("The account's key vault no longer exists.").toJson();
      if (auto error = kc::checkVaultReachable(w, *vault, endpointId, vnetId)) return error->toJson();
      if (auto error = accountKeyError(w, *current)) return error->toJson();
      for (Json* volume : volumesOf(w, id)) {
        if (!arm::sameId(vnetOfVolume(*volume), vnetId)) continue;
        if (arm::iequals(arm::stringAt(*volume, "/properties/encryptionKeySource"), kKeyVault)) continue;
        (*volume)["properties"]["encryptionKeySource"] = kKeyVault;
        (*volume)["properties"]["keyVaultPrivateEndpointResourceId"] = endpointId;
        (*volume)["etag"] = w.newEtag();
      }
      return std::nullopt;
    };
    return context.startOperation(std::move(operation));
  }

  Response changeKeyVault(Context& context, Json& account, const Json& body) {
    World& world = context.world();
    std::string id = account.value("id", std::string{});
    std::string uri = body.value("keyVaultUri", std::string{});
    std::string keyName = body.value("keyName", std::string{});
    auto target = kc::checkAccountKey(world, uri, keyName, body.value("keyVaultResourceId", std::string{}), account.value("location", std::string{}));
    if (!target) return target.error().toResponse();
    Json endpoints = body.value("keyVaultPrivateEndpoints", Json::array());
    if (!endpoints.is_array()) return arm::badRequest("InvalidParameter", "keyVaultPrivateEndpoints must be an array.");
    std::string missing;
    for (const auto& [vnet, ignored] : cmkVnets(world, id)) {
      bool given = std::ranges::any_of(endpoints, [&](const Json& e) { return arm::sameId(e.value("virtualNetworkId", std::string{}), vnet); });
      if (!given) missing += (missing.empty() ? "" : ", ") + vnet;
    }
    if (!missing.empty()) {
      return arm::badRequest("InvalidKeyVaultPrivateEndpoints",
                             "A private endpoint to the new key vault is required for every virtual network with customer-managed key "
                             "volumes of the account; missing: " + missing + ".",
                             "keyVaultPrivateEndpoints");
    }
    std::string vaultId = target->vault->value("id", std::string{});
    LongRunningOperation operation = operationFor(account, LongRunningOperation::Poll::Location, 202);
    operation.kind = "changeKeyVault";
    operation.initialBody = nullptr;
    operation.finalBody = nullptr;
    operation.complete = [id, vaultId, uri, keyName, endpoints](World& w) -> std::optional<Json> {
      Json* current = w.find(id);
      Json* vault = w.find(vaultId);
      if (current == nullptr || vault == nullptr) return Json{{"code", "ResourceNotFound"}, {"message", "The account or the key vault was deleted."}};
      for (const auto& endpoint : endpoints) {
        if (auto error = kc::checkVaultReachable(w, *vault, endpoint.value("privateEndpointId", std::string{}),
                                                 endpoint.value("virtualNetworkId", std::string{}))) {
          return error->toJson();
        }
      }
      Json* key = arm::findTyped(w, vaultId + "/keys/" + keyName, "Microsoft.KeyVault/vaults/keys");
      if (auto error = keyAccessError(w, *current, *vault, key)) return error->toJson();
      Json& kv = (*current)["properties"]["encryption"]["keyVaultProperties"];
      kv["keyVaultUri"] = uri;
      kv["keyName"] = keyName;
      kv["keyVaultResourceId"] = vaultId;
      kv["status"] = "InUse";
      (*current)["etag"] = w.newEtag();
      for (Json* volume : volumesOf(w, id)) {
        if (!arm::iequals(arm::stringAt(*volume, "/properties/encryptionKeySource"), kKeyVault)) continue;
        for (const auto& endpoint : endpoints) {
          if (arm::sameId(endpoint.value("virtualNetworkId", std::string{}), vnetOfVolume(*volume))) {
            (*volume)["properties"]["keyVaultPrivateEndpointResourceId"] = endpoint.value("privateEndpointId", std::string{});
            (*volume)["etag"] = w.newEtag();
          }
        }
      }
      return std::nullopt;
    };
    return context.startOperation(std::move(operation));
  }

  // ------------------------------------------------ capacity pools

  Response pools(const Request& request, const ArmPath& path, Context& context) {
    World& world = context.world();
    Json* account = nullptr;
    Json* existing = nullptr;
    if (auto answered = childRequest(request, path, context, {kAccountType, "capacityPools", kPoolType, "volumes"}, account, existing)) {
      return *answered;
    }
    std::string id = path.resourceId();
    if (auto bad = arm::checkObjectBody(request)) return *bad;
    if (auto bad = arm::checkName(path.names[1], R"(^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,63}$)", kPoolType)) return *bad;
    Json requested = request.body.value("properties", Json::object());
    Json properties = existing ? (*existing)["properties"] : Json::object();
    if (request.method == "PUT") {
      if (auto bad = arm::checkLocation(request.body)) return *bad;
      if (!requested.contains("size")) return arm::badRequest("InvalidParameter", "The property 'size' is required.", "properties.size");
      if (!requested.contains("serviceLevel")) return arm::badRequest("InvalidParameter", "The property 'serviceLevel' is required.", "properties.serviceLevel");
    }
    for (const char* key : {"size", "serviceLevel", "qosType", "coolAccess", "customThroughputMibps", "encryptionType"}) {
      if (requested.contains(key)) properties[key] = requested[key];
    }
    if (auto refused = netapplimits::poolRefusal(world, *account, existing, id, properties)) return refused->toResponse();
    static const std::vector<std::string> kLevels{"Standard", "Premium", "Ultra", "StandardZRS", "Flexible"};
    std::string level = properties.value("serviceLevel", std::string{});
    if (std::ranges::find(kLevels, level) == kLevels.end()) {
      return arm::badRequest("InvalidServiceLevel", "serviceLevel must be one of Standard, Premium, Ultra, StandardZRS, Flexible.", "properties.serviceLevel");
    }
    if (existing && requested.contains("serviceLevel") && requested["serviceLevel"] != (*existing)["properties"]["serviceLevel"]) {
      return arm::badRequest("ServiceLevelCannotBeChanged", "The service level of a capacity pool cannot be changed by an update.", "properties.serviceLevel");
    }
    std::string qos = properties.value("qosType", std::string("Auto"));
    if (qos != "Auto" && qos != "Manual") return arm::badRequest("InvalidQosType", "qosType must be Auto or Manual.", "properties.qosType");
    properties["qosType"] = qos;
    properties["coolAccess"] = properties.value("coolAccess", false);
    properties["encryptionType"] = existing ? (*existing)["properties"].value("encryptionType", std::string("Single"))
                                            : properties.value("encryptionType", std::string("Single"));
    properties["poolId"] = existing ? (*existing)["properties"]["poolId"] : Json(world.newGuid());
    properties["totalThroughputMibps"] = throughputOf(level, properties["size"].get<std::int64_t>());
    properties["utilizedThroughputMibps"] = properties.value("utilizedThroughputMibps", 0.0);
    properties["provisioningState"] = existing ? (request.method == "PATCH" ? "Patching" : "Updating") : "Creating";
    Json pool = existing ? *existing : Json{{"id", id}, {"name", path.names[0] + "/" + path.names[1]}, {"type", kPoolType}};
    if (request.body.contains("location")) pool["location"] = request.body["location"];
    if (!pool.contains("location")) pool["location"] = account->value("location", std::string{});
    if (request.body.contains("tags") || request.method == "PUT") pool["tags"] = request.body.value("tags", Json::object());
    pool["properties"] = properties;
    pool["etag"] = world.newEtag();
    Json& stored = world.put(std::move(pool));
    LongRunningOperation operation = request.method == "PUT" ? operationFor(stored, LongRunningOperation::Poll::Both, 201)
                                                             : operationFor(stored, LongRunningOperation::Poll::Location, 202);
    operation.complete = [id](World& w) -> std::optional<Json> {
      Json* pool = w.find(id);
      if (pool == nullptr) return Json{{"code", "ResourceNotFound"}, {"message", "The capacity pool was deleted."}};
      (*pool)["properties"]["provisioningState"] = "Succeeded";
      (*pool)["etag"] = w.newEtag();
      return std::nullopt;
    };
    return context.startOperation(std::move(operation));
  }

  // ------------------------------------------------ volumes

  Response volumes(const Request& request, const ArmPath& path, Context& context) {
    World& world = context.world();
    Json* pool = nullptr;
    Json* existing = nullptr;
    if (auto answered = childRequest(request, path, context, {kPoolType, "volumes", kVolumeType, nullptr}, pool, existing)) {
      return *answered;
    }
    std::string id = path.resourceId();
    if (auto bad = arm::checkObjectBody(request)) return *bad;
    if (auto bad = arm::checkName(path.names[2], R"(^[a-zA-Z][a-zA-Z0-9\-_]{0,63}$)", kVolumeType)) return *bad;
    std::string accountId = accountIdOf(id);
    Json* account = arm::findTyped(world, accountId, kAccountType);
    if (account == nullptr) return arm::parentNotFound(accountId);
    if (existing == nullptr && arm::stringAt(*pool, "/properties/provisioningState") != "Succeeded") return poolNotSucceeded();
    auto next = buildVolume(world, request, path, existing, *pool, *account);
    if (!next) return next.error().toResponse();
    bool cmk = arm::iequals(arm::stringAt(*next, "/properties/encryptionKeySource"), kKeyVault);
    bool create = existing == nullptr || arm::stringAt(*existing, "/properties/provisioningState") == "Failed";
    bool serialized = create && world.serialVolumeCreation && anotherVolumeCreating(world, accountId, id);
    Json& stored = world.put(std::move(*next));
    LongRunningOperation operation = request.method == "PUT" ? operationFor(stored, LongRunningOperation::Poll::AzureAsyncOperation, 201)
                                                             : operationFor(stored, LongRunningOperation::Poll::Location, 202);
    operation.complete = [id, accountId, cmk, create, serialized](World& w) -> std::optional<Json> {
      Json* volume = w.find(id);
      if (volume == nullptr) return Json{{"code", "ResourceNotFound"}, {"message", "The volume was deleted."}};
      if (serialized) return failWith(w, id, anotherVolumeCreation(arm::lastSegment(id)), false);
      if (cmk && create) {
        Json* account = w.find(accountId);
        Json* vault = account ? accountVault(w, *account) : nullptr;
        if (account == nullptr || vault == nullptr) return failWith(w, id, keyUnusable("The account's key vault no longer exists."), false);
        if (auto error = kc::checkVaultReachable(w, *vault, arm::stringAt(*volume, "/properties/keyVaultPrivateEndpointResourceId"),
                                                 vnetOfVolume(*volume))) {
          return failWith(w, id, *error, false);
        }
        if (auto error = accountKeyError(w, *account)) return failWith(w, id, *error, false);
      }
      volume = w.find(id);
      (*volume)["properties"]["provisioningState"] = "Succeeded";
      (*volume)["etag"] = w.newEtag();
      return std::nullopt;
    };
    return context.startOperation(std::move(operation));
  }

  std::expected<Json, Error> buildVolume(World& world, const Request& request, const ArmPath& path, const Json* existing,
                                         const Json& pool, const Json& account) {
    const Json requested = request.body.value("properties", Json::object());
    Json before = existing ? (*existing)["properties"] : Json::object();
    Json properties = before;
    for (const char* key : {"creationToken", "usageThreshold", "subnetId", "serviceLevel", "networkFeatures", "encryptionKeySource",
                            "keyVaultPrivateEndpointResourceId", "protocolTypes", "exportPolicy", "throughputMibps", "snapshotDirectoryVisible",
                            "securityStyle", "kerberosEnabled", "smbEncryption", "unixPermissions", "volumeType", "isLargeVolume", "zones"}) {
      if (requested.contains(key)) properties[key] = requested[key];
    }
    if (!existing) {
      if (request.method == "PUT") {
        if (auto bad = arm::checkLocation(request.body)) return std::unexpected(invalid("LocationRequired", bad->body["error"]["message"]));
      }
      for (const char* key : {"creationToken", "usageThreshold", "subnetId"}) {
        if (!properties.contains(key)) return std::unexpected(invalid("InvalidParameter", std::string("The property '") + key + "' is required."));
      }
    }
    // create-only fields
    for (const char* key : {"creationToken", "subnetId", "networkFeatures"}) {
      if (existing && requested.contains(key) && requested[key] != before.value(key, Json())) {
        return std::unexpected(invalid("InvalidParameter", std::string("The property '") + key + "' cannot be changed after the volume is created."));
      }
    }
    std::string token = properties.value("creationToken", std::string{});
    if (!std::regex_match(token, std::regex(R"(^[a-zA-Z][a-zA-Z0-9\-_]{0,79}$)"))) {
      return std::unexpected(invalid("InvalidCreationToken", "The creationToken (file path) '" + token + "' must match ^[a-zA-Z][a-zA-Z0-9\\-_]{0,79}$."));
    }
    if (!existing) {
      for (Json* other : arm::ofType(world, kVolumeType, "/subscriptions/" + path.subscriptionId)) {
        if (arm::stringAt(*other, "/properties/creationToken") == token) {
          return std::unexpected(Error{409, "CreationTokenIsAlreadyInUse", "Creation token is already in use", ""});
        }
      }
    }
    if (auto refused = netapplimits::volumeRefusal(world, pool, existing, path.resourceId(), properties)) return std::unexpected(*refused);
    std::string subnetId = properties.value("subnetId", std::string{});
    Json* subnet = arm::findTyped(world, subnetId, privatelink::kSubnetType);
    if (subnet == nullptr) return std::unexpected(invalid("InvalidSubnetId", "The subnet '" + subnetId + "' was not found."));
    if (!privatelink::isDelegatedTo(*subnet, "Microsoft.NetApp/volumes")) {
      return std::unexpected(invalid("SubnetNotDelegated", "The subnet '" + subnetId + "' must have the delegation Microsoft.NetApp/volumes."));
    }
    static const std::vector<std::string> kFeatures{"Basic", "Standard", "Basic_Standard", "Standard_Basic"};
    std::string networkFeatures = properties.value("networkFeatures", std::string("Basic"));
    if (std::ranges::find(kFeatures, networkFeatures) == kFeatures.end()) {
      return std::unexpected(invalid("InvalidNetworkFeatures", "networkFeatures must be one of Basic, Standard, Basic_Standard, Standard_Basic."));
    }
    std::string keySource = canonicalKeySource(properties.value("encryptionKeySource", std::string{}));
    if (keySource.empty()) return std::unexpected(invalid("InvalidEncryptionKeySource", "encryptionKeySource must be Microsoft.NetApp or Microsoft.KeyVault."));
    if (existing && canonicalKeySource(before.value("encryptionKeySource", std::string{})) != keySource) {
      return std::unexpected(kc::error(kc::kCodeKeySourceChange, kc::kKeySourceChange));
    }
    if (keySource == kKeyVault && !isCmk(account)) return std::unexpected(kc::error(kc::kCodeAccountNotCmk, kc::kAccountNotCmk));
    if (keySource == kKeyVault && networkFeatures != "Standard") {
      return std::unexpected(invalid("NetworkFeaturesNotSupported",
                                     "To create a volume using customer-managed keys, you must select the Standard network features"));
    }
    properties["networkFeatures"] = networkFeatures;
    properties["effectiveNetworkFeatures"] = networkFeatures == "Standard_Basic" ? "Basic" : (networkFeatures == "Basic_Standard" ? "Standard" : networkFeatures);
    properties["encryptionKeySource"] = keySource;
    if (keySource == kNetApp) properties.erase("keyVaultPrivateEndpointResourceId");
    properties["serviceLevel"] = properties.value("serviceLevel", arm::stringAt(pool, "/properties/serviceLevel", "Premium"));
    // An Auto QoS volume's throughput follows its size; a Manual one keeps what was asked (0 until then).
    if (arm::stringAt(pool, "/properties/qosType", "Auto") == "Auto") {
      properties["throughputMibps"] = throughputOf(properties["serviceLevel"].get<std::string>(), properties["usageThreshold"].get<std::int64_t>());
    } else {
      properties["throughputMibps"] = properties.value("throughputMibps", Json(0));
    }
    properties["protocolTypes"] = properties.value("protocolTypes", Json::array({"NFSv3"}));
    properties["encrypted"] = true;
    std::string fileSystemId = before.value("fileSystemId", world.newGuid());
    properties["fileSystemId"] = fileSystemId;
    if (!existing) {
      std::size_t used = 0;
      for (Json* other : arm::ofType(world, kVolumeType)) used += arm::sameId(arm::stringAt(*other, "/properties/subnetId"), subnetId) ? 1 : 0;
      std::string prefix = arm::stringAt(*subnet, "/properties/addressPrefix", "10.0.0.0/24");
      std::string ip = prefix.substr(0, prefix.rfind('.')) + "." + std::to_string(4 + used);
      properties["mountTargets"] = Json::array({Json{{"mountTargetId", world.newGuid()}, {"fileSystemId", fileSystemId}, {"ipAddress", ip}}});
      properties["networkSiblingSetId"] = world.newGuid();
      properties["storageToNetworkProximity"] = "Default";
    }
    bool failedBefore = existing && arm::stringAt(*existing, "/properties/provisioningState") == "Failed";
    properties["provisioningState"] = !existing || failedBefore ? "Creating" : (request.method == "PATCH" ? "Patching" : "Updating");
    Json volume = existing ? *existing : Json{{"id", path.resourceId()}, {"name", path.names[0] + "/" + path.names[1] + "/" + path.names[2]}, {"type", kVolumeType}};
    if (request.body.contains("location")) volume["location"] = request.body["location"];
    if (!volume.contains("location")) volume["location"] = account.value("location", std::string{});
    if (request.body.contains("tags") || request.method == "PUT") volume["tags"] = request.body.value("tags", Json::object());
    if (request.body.contains("zones")) volume["zones"] = request.body["zones"];
    volume["properties"] = properties;
    volume["etag"] = world.newEtag();
    return volume;
  }
};

}  // namespace

ResourceProviderPtr makeNetAppProvider() { return std::make_unique<NetAppProvider>(); }

}  // namespace anf::emulator
