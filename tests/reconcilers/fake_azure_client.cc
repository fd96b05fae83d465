#include "tests/reconcilers/fake_azure_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

namespace anf::reconcilers::testing {

namespace {

template <typename T>
pplx::task<Expected<T>> answer(Expected<T> value) {
  return pplx::task_from_result(std::move(value));
}

template <typename T>
pplx::task<Expected<T>> refusal(AzureError error) {
  return pplx::task_from_result(Expected<T>(std::unexpected(std::move(error))));
}

/// The value of a Graph filter "field eq 'value'" ('' unescaped), or nullopt for another field.
std::optional<std::string> filterValue(const std::string& filter, std::string_view field) {
  const std::string prefix = std::string(field) + " eq '";
  if (!filter.starts_with(prefix) || !filter.ends_with('\'')) return std::nullopt;
  std::string value = filter.substr(prefix.size(), filter.size() - prefix.size() - 1);
  for (auto at = value.find("''"); at != std::string::npos; at = value.find("''", at + 1)) value.erase(at, 1);
  return value;
}

}  // namespace

AzureError azureError(int httpStatus, std::string code, std::string message, bool retryable) {
  AzureError error;
  error.httpStatus = httpStatus;
  error.code = std::move(code);
  error.message = std::move(message);
  error.requestId = "fake-request-id";
  error.retryable = retryable;
  return error;
}

AzureError notFound(const ResourceId& id) {
  return azureError(404, "ResourceNotFound", "The Resource '" + id.str() + "' was not found.");
}

ArmResult armOk(Json body, int status) { return ArmResult{.status = status, .body = std::move(body)}; }

std::optional<AzureError> FakeAzureClient::admit(std::string method, const std::string& credential, std::string target,
                                                 Json body, bool configured, std::vector<std::string_view> required) {
  calls.push_back(FakeCall{method, credential, target, std::move(body)});
  if (std::ranges::find(credentials, credential) == credentials.end())
    return azureError(0, "UnknownCredential", "no credential named '" + credential + "' is configured");
  if (std::ranges::any_of(required, [](std::string_view part) { return part.empty(); }))
    return azureError(400, method.starts_with("graph:") ? "Request_BadRequest" : "InvalidRequestUri",
                      "An empty segment in " + target + ".");
  if (!configured) {
    ADD_FAILURE() << "FakeAzureClient: unexpected " << method << " " << target << " (credential " << credential
                  << "): the test configured no function for it";
    return azureError(501, "FakeNotConfigured", method + " " + target + " is not configured in the fake");
  }
  return std::nullopt;
}

std::vector<FakeCall> FakeAzureClient::callsTo(std::string_view method, std::string_view suffix) const {
  std::vector<FakeCall> out;
  for (const auto& call : calls)
    if (call.method == method && call.target.ends_with(suffix)) out.push_back(call);
  return out;
}

std::vector<FakeCall> FakeAzureClient::writes() const {
  std::vector<FakeCall> out;
  for (const auto& call : calls)
    if (call.method != "GET" && call.method != "LIST" && call.method != "POLL" && call.method != "CHECK" &&
        call.method != "graph:GET")
      out.push_back(call);
  return out;
}

pplx::task<Expected<ArmResult>> FakeAzureClient::get(const std::string& credential, const ResourceId& id,
                                                     RequestOptions options) {
  if (auto refused = admit("GET", credential, id.str(), nullptr, bool(getFn))) return refusal<ArmResult>(*refused);
  return answer(getFn(credential, id, options));
}

pplx::task<Expected<std::vector<Json>>> FakeAzureClient::list(const std::string& credential, const ResourceId& parent,
                                                              std::string_view childType, RequestOptions options) {
  const std::string target = parent.str() + "/" + std::string(childType);
  if (auto refused = admit("LIST", credential, target, nullptr, bool(listFn), {childType})) return refusal<std::vector<Json>>(*refused);
  return answer(listFn(credential, parent, childType, options));
}

pplx::task<Expected<ArmResult>> FakeAzureClient::put(const std::string& credential, const ResourceId& id, Json body,
                                                     RequestOptions options) {
  if (auto refused = admit("PUT", credential, id.str(), body, bool(putFn))) return refusal<ArmResult>(*refused);
  return answer(putFn(credential, id, body, options));
}

pplx::task<Expected<ArmResult>> FakeAzureClient::patch(const std::string& credential, const ResourceId& id, Json body,
                                                       RequestOptions options) {
  if (auto refused = admit("PATCH", credential, id.str(), body, bool(patchFn))) return refusal<ArmResult>(*refused);
  return answer(patchFn(credential, id, body, options));
}

pplx::task<Expected<ArmResult>> FakeAzureClient::remove(const std::string& credential, const ResourceId& id,
                                                        RequestOptions options) {
  if (auto refused = admit("DELETE", credential, id.str(), nullptr, bool(removeFn))) return refusal<ArmResult>(*refused);
  return answer(removeFn(credential, id, options));
}

pplx::task<Expected<ArmResult>> FakeAzureClient::post(const std::string& credential, const ResourceId& id,
                                                      std::string_view action, Json body, RequestOptions options) {
  const std::string target = id.str() + "/" + std::string(action);
  if (auto refused = admit("POST", credential, target, body, bool(postFn), {action})) return refusal<ArmResult>(*refused);
  return answer(postFn(credential, id, action, body, options));
}

pplx::task<azure::PollResult> FakeAzureClient::pollOperation(const azure::OperationState& operation) {
  calls.push_back(FakeCall{"POLL", "", operation.toJson().dump(), nullptr});
  if (!pollFn) {
    ADD_FAILURE() << "FakeAzureClient: unexpected poll of an operation: the test configured no pollFn";
    return pplx::task_from_result(azure::PollResult{.state = azure::PollResult::State::Failed,
                                                    .error = azureError(501, "FakeNotConfigured", "poll")});
  }
  return pplx::task_from_result(pollFn(operation));
}

pplx::task<azure::PollResult> FakeAzureClient::waitForOperation(const azure::OperationState& operation,
                                                                std::chrono::milliseconds) {
  return pollOperation(operation);
}

pplx::task<Expected<Json>> FakeAzureClient::createApplication(const std::string& credential,
                                                              const std::string& displayName,
                                                              const std::string& signInAudience) {
  Json body = {{"displayName", displayName}, {"signInAudience", signInAudience}};
  if (auto refused = admit("graph:POST", credential, "applications", body, bool(createApplicationFn), {displayName}))
    return refusal<Json>(*refused);
  return answer(createApplicationFn(credential, displayName, signInAudience));
}

pplx::task<Expected<std::optional<Json>>> FakeAzureClient::findApplicationByAppId(const std::string& credential,
                                                                                  const std::string& appId) {
  auto found = listApplications(credential, "appId eq '" + appId + "'").get();
  if (!found) return refusal<std::optional<Json>>(found.error());
  return answer(Expected<std::optional<Json>>(found->empty() ? std::nullopt : std::optional<Json>(found->front())));
}

pplx::task<Expected<std::vector<Json>>> FakeAzureClient::listApplications(const std::string& credential,
                                                                          const std::string& filter) {
  if (auto refused = admit("graph:GET", credential, "applications?$filter=" + filter, nullptr, bool(listApplicationsFn)))
    return refusal<std::vector<Json>>(*refused);
  return answer(listApplicationsFn(credential, filter));
}

pplx::task<Expected<void>> FakeAzureClient::updateApplication(const std::string& credential,
                                                              const std::string& applicationObjectId, Json properties) {
  if (auto refused = admit("graph:PATCH", credential, "applications/" + applicationObjectId, properties,
                           bool(updateApplicationFn), {applicationObjectId}))
    return refusal<void>(*refused);
  return answer(updateApplicationFn(credential, applicationObjectId, properties));
}

pplx::task<Expected<void>> FakeAzureClient::deleteApplication(const std::string& credential,
                                                              const std::string& applicationObjectId) {
  if (auto refused = admit("graph:DELETE", credential, "applications/" + applicationObjectId, nullptr,
                           bool(deleteApplicationFn), {applicationObjectId}))
    return refusal<void>(*refused);
  return answer(deleteApplicationFn(credential, applicationObjectId));
}

pplx::task<Expected<Json>> FakeAzureClient::createFederatedIdentityCredential(const std::string& credential,
                                                                              const std::string& applicationObjectId,
                                                                              Json body) {
  if (auto refused = admit("graph:POST", credential, "applications/" + applicationObjectId + "/federatedIdentityCredentials",
                           body, bool(createFederatedCredentialFn), {applicationObjectId}))
    return refusal<Json>(*refused);
  return answer(createFederatedCredentialFn(credential, applicationObjectId, body));
}

pplx::task<Expected<std::vector<Json>>> FakeAzureClient::listFederatedIdentityCredentials(
    const std::string& credential, const std::string& applicationObjectId) {
  if (auto refused = admit("graph:GET", credential, "applications/" + applicationObjectId + "/federatedIdentityCredentials",
                           nullptr, bool(listFederatedCredentialsFn), {applicationObjectId}))
    return refusal<std::vector<Json>>(*refused);
  return answer(listFederatedCredentialsFn(credential, applicationObjectId));
}

pplx::task<Expected<void>> FakeAzureClient::updateFederatedIdentityCredential(const std::string& credential,
                                                                              const std::string& applicationObjectId,
                                                                              const std::string& credentialId,
                                                                              Json properties) {
  const std::string target = "applications/" + applicationObjectId + "/federatedIdentityCredentials/" + credentialId;
  if (auto refused = admit("graph:PATCH", credential, target, properties, bool(updateFederatedCredentialFn),
                           {applicationObjectId, credentialId}))
    return refusal<void>(*refused);
  if (properties.contains("name"))
    return refusal<void>(azureError(400, "Request_BadRequest", "Property 'name' is read-only and cannot be set."));
  return answer(updateFederatedCredentialFn(credential, applicationObjectId, credentialId, properties));
}

pplx::task<Expected<Json>> FakeAzureClient::createServicePrincipal(const std::string& credential,
                                                                   const std::string& appId) {
  if (auto refused = admit("graph:POST", credential, "servicePrincipals", {{"appId", appId}},
                           bool(createServicePrincipalFn), {appId}))
    return refusal<Json>(*refused);
  return answer(createServicePrincipalFn(credential, appId));
}

pplx::task<Expected<std::optional<Json>>> FakeAzureClient::findServicePrincipalByAppId(const std::string& credential,
                                                                                       const std::string& appId) {
  if (auto refused = admit("graph:GET", credential, "servicePrincipals?$filter=appId eq '" + appId + "'", nullptr,
                           bool(findServicePrincipalFn), {appId}))
    return refusal<std::optional<Json>>(*refused);
  return answer(findServicePrincipalFn(credential, appId));
}

pplx::task<Expected<void>> FakeAzureClient::checkCredential(const std::string& credential, azure::Audience) {
  if (auto refused = admit("CHECK", credential, "token", nullptr, true)) return refusal<void>(*refused);
  return answer(Expected<void>{});
}

// --- FakeAzureStore -----------------------------------------------------------------------------

std::string FakeAzureStore::newGuid() {
  char out[40];
  std::snprintf(out, sizeof out, "00000000-0000-4000-8000-%012d", nextId++);
  return out;
}

Json& FakeAzureStore::putArm(const std::string& id, Json body) {
  auto parsed = ResourceId::parse(id);
  EXPECT_TRUE(parsed.has_value()) << "FakeAzureStore::putArm: not an ARM id: " << id;
  if (!body.is_object()) body = Json::object();
  body["id"] = id;
  if (parsed) body["name"] = parsed->name();
  return arm[parsed ? parsed->key() : id] = std::move(body);
}

Json* FakeAzureStore::findArm(const std::string& id) {
  auto parsed = ResourceId::parse(id);
  auto it = parsed ? arm.find(parsed->key()) : arm.end();
  return it == arm.end() ? nullptr : &it->second;
}

void FakeAzureStore::serve(FakeAzureClient& client) {
  serveArm(client);
  serveGraph(client);
}

void FakeAzureStore::serveArm(FakeAzureClient& client) {
  if (!client.getFn)
    client.getFn = [this](const std::string&, const ResourceId& id, const RequestOptions&) -> Expected<ArmResult> {
      if (Json* found = findArm(id.str())) return armOk(*found);
      return std::unexpected(notFound(id));
    };
  if (!client.listFn)
    client.listFn = [this](const std::string&, const ResourceId& parent, std::string_view childType,
                           const RequestOptions&) -> Expected<std::vector<Json>> {
      const std::string type = parent.child(childType, "x").resourceType();
      std::vector<Json> items;
      for (const auto& [key, resource] : arm) {
        auto id = ResourceId::parse(resource.value("id", ""));
        if (id && id->parent() && *id->parent() == parent && azure::equalsIgnoreCase(id->resourceType(), type))
          items.push_back(resource);
      }
      return items;
    };
  if (!client.putFn)
    client.putFn = [this](const std::string&, const ResourceId& id, const Json& body,
                          const RequestOptions&) -> Expected<ArmResult> {
      if (!azure::equalsIgnoreCase(id.resourceType(), "Microsoft.KeyVault/vaults/accessPolicies"))
        return armOk(putArm(id.str(), body));
      // PUT {vault}/accessPolicies/add merges the policies into the vault, as Key Vault does.
      Json* vault = findArm(id.parent()->str());
      if (!vault) return std::unexpected(notFound(*id.parent()));
      Json& policies = (*vault)["properties"]["accessPolicies"];
      if (!policies.is_array()) policies = Json::array();
      for (const Json& policy : body.value("/properties/accessPolicies"_json_pointer, Json::array())) policies.push_back(policy);
      return armOk(body);
    };
  if (!client.patchFn)
    client.patchFn = [this](const std::string&, const ResourceId& id, const Json& body,
                            const RequestOptions&) -> Expected<ArmResult> {
      Json* found = findArm(id.str());
      if (!found) return std::unexpected(notFound(id));
      found->merge_patch(body);
      return armOk(*found);
    };
  if (!client.removeFn)
    client.removeFn = [this](const std::string&, const ResourceId& id, const RequestOptions&) -> Expected<ArmResult> {
      if (!arm.erase(id.key())) return std::unexpected(notFound(id));
      return armOk(nullptr, 200);
    };
}

Json* FakeAzureStore::findApplication(const std::string& credential, const std::string& objectId) {
  for (Json& application : graph[credential].applications)
    if (application.value("id", "") == objectId) return &application;
  return nullptr;
}

void FakeAzureStore::serveGraph(FakeAzureClient& client) {
  const auto graphNotFound = [](const std::string& id) {
    return azureError(404, "Request_ResourceNotFound", "Resource '" + id + "' does not exist.");
  };
  if (!client.createApplicationFn)
    client.createApplicationFn = [this](const std::string& credential, const std::string& displayName,
                                        const std::string& audience) -> Expected<Json> {
      Json application = {{"id", newGuid()}, {"appId", newGuid()}, {"displayName", displayName},
                          {"signInAudience", audience}};
      graph[credential].applications.push_back(application);
      return application;
    };
  if (!client.listApplicationsFn)
    client.listApplicationsFn = [this](const std::string& credential, const std::string& filter) -> Expected<std::vector<Json>> {
      std::vector<Json> out;
      for (const Json& application : graph[credential].applications) {
        auto appId = filterValue(filter, "appId");
        auto displayName = filterValue(filter, "displayName");
        if (!filter.empty() && !appId && !displayName) {
          ADD_FAILURE() << "FakeAzureStore: unsupported Graph filter " << filter;
          return out;
        }
        if ((!appId || application.value("appId", "") == *appId) &&
            (!displayName || application.value("displayName", "") == *displayName))
          out.push_back(application);
      }
      return out;
    };
  if (!client.updateApplicationFn)
    client.updateApplicationFn = [this, graphNotFound](const std::string& credential, const std::string& objectId,
                                                       const Json& properties) -> Expected<void> {
      Json* application = findApplication(credential, objectId);
      if (!application) return std::unexpected(graphNotFound(objectId));
      application->merge_patch(properties);
      return {};
    };
  if (!client.deleteApplicationFn)
    client.deleteApplicationFn = [this, graphNotFound](const std::string& credential,
                                                       const std::string& objectId) -> Expected<void> {
      auto& applications = graph[credential].applications;
      auto erased = std::erase_if(applications, [&](const Json& a) { return a.value("id", "") == objectId; });
      if (!erased) return std::unexpected(graphNotFound(objectId));
      graph[credential].federatedCredentials.erase(objectId);
      return {};
    };
  if (!client.createFederatedCredentialFn)
    client.createFederatedCredentialFn = [this, graphNotFound](const std::string& credential, const std::string& objectId,
                                                               const Json& body) -> Expected<Json> {
      if (!findApplication(credential, objectId)) return std::unexpected(graphNotFound(objectId));
      auto& existing = graph[credential].federatedCredentials[objectId];
      for (const Json& other : existing)
        if (other.value("name", "") == body.value("name", ""))
          return std::unexpected(azureError(409, "Request_BadRequest",
                                            "FederatedIdentityCredential with name " + body.value("name", "") +
                                                " already exists."));
      Json created = body;
      created["id"] = newGuid();
      existing.push_back(created);
      return created;
    };
  if (!client.listFederatedCredentialsFn)
    client.listFederatedCredentialsFn = [this, graphNotFound](const std::string& credential,
                                                              const std::string& objectId) -> Expected<std::vector<Json>> {
      if (!findApplication(credential, objectId)) return std::unexpected(graphNotFound(objectId));
      return graph[credential].federatedCredentials[objectId];
    };
  if (!client.updateFederatedCredentialFn)
    client.updateFederatedCredentialFn = [this, graphNotFound](const std::string& credential, const std::string& objectId,
                                                               const std::string& credentialId,
                                                               const Json& properties) -> Expected<void> {
      for (Json& fic : graph[credential].federatedCredentials[objectId])
        if (fic.value("id", "") == credentialId) {
          fic.merge_patch(properties);
          return {};
        }
      return std::unexpected(graphNotFound(credentialId));
    };
  if (!client.createServicePrincipalFn)
    client.createServicePrincipalFn = [this](const std::string& credential, const std::string& appId) -> Expected<Json> {
      for (const Json& existing : graph[credential].servicePrincipals)
        if (existing.value("appId", "") == appId)
          return std::unexpected(azureError(409, "Request_MultipleObjectsWithSameKeyValue",
                                            "The service principal name " + appId + " is already in use."));
      Json principal = {{"id", newGuid()}, {"appId", appId}};
      graph[credential].servicePrincipals.push_back(principal);
      return principal;
    };
  if (!client.findServicePrincipalFn)
    client.findServicePrincipalFn = [this](const std::string& credential,
                                           const std::string& appId) -> Expected<std::optional<Json>> {
      for (const Json& principal : graph[credential].servicePrincipals)
        if (principal.value("appId", "") == appId) return std::optional<Json>(principal);
      return std::optional<Json>();
    };
}

}  // namespace anf::reconcilers::testing
