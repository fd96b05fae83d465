#pragma once
// The emulator's view of Entra as the resource providers need it: which object ids are principals
// that can hold grants in a tenant, and the pieces of the cross-tenant chain (application by appId,
// its federated identity credentials, its service principal in another tenant).
//
// Graph objects live in the World under "/tenants/{tid}/applications/{objectId}",
// "/tenants/{tid}/servicePrincipals/{objectId}" and
// "/tenants/{tid}/applications/{objectId}/federatedIdentityCredentials/{id}" (provider.h). Managed
// identities (user-assigned, and accounts' system-assigned ones) are registered here as service
// principals of type "ManagedIdentity", as Entra does, so role assignments and access policies can
// name them.
#include <optional>
#include <string>
#include <vector>

#include "emulator/provider.h"

namespace anf::emulator::directory {

/// "/tenants/{tid}/servicePrincipals/{objectId}"
std::string servicePrincipalId(const std::string& tenantId, const std::string& objectId);
/// The object id of a stored Graph object: its "objectId" field, else the last segment of its "id".
std::string objectIdOf(const Json& graphObject);

/// Records a managed identity's service principal (objectId = principalId, appId = clientId).
void registerManagedIdentity(World& world, const std::string& tenantId, const std::string& objectId,
                             const std::string& clientId, const std::string& displayName,
                             const std::string& resourceId);
/// Removes a managed identity's service principal (identity deleted or system identity turned off).
void unregisterPrincipal(World& world, const std::string& tenantId, const std::string& objectId);

/// Removes the principal a resource brings along: a user-assigned identity's, or the system-assigned
/// identity of any resource (identity.principalId). For deletions.
void unregisterResourcePrincipal(World& world, const Json& resource);

/// Is `objectId` a principal of `tenantId`: a tenant principal (admin), or a service principal
/// (application SP or managed identity) stored under that tenant.
bool principalExists(World& world, const std::string& tenantId, const std::string& objectId);

/// The application registered in `tenantId` whose appId is `appId`, or nullptr.
Json* applicationByAppId(World& world, const std::string& tenantId, const std::string& appId);
/// The federated identity credentials of an application (by the application's object id).
std::vector<Json*> federatedCredentials(World& world, const std::string& tenantId, const std::string& applicationObjectId);
/// The object id of the service principal of `appId` in `tenantId`, if that tenant has one.
std::optional<std::string> servicePrincipalOf(World& world, const std::string& tenantId, const std::string& appId);

}  // namespace anf::emulator::directory
