#pragma once
// A strict azure::AzureClient for reconciler unit tests (crossplane's ExternalClientFns): one
// std::function per method. It refuses what the real client refuses, so a test cannot pass on a call
// that production would fail:
//   - a method the test did not configure fails the test (ADD_FAILURE) and returns an error;
//   - a credential that is not in `credentials` is UnknownCredential (the real client's refusal);
//   - an empty Graph object id, app id or credential id is Graph's 400 Request_BadRequest, an empty LIST
//     child type or POST action ARM's 400 InvalidRequestUri (the real client would send ".../");
//   - ids are azure::ResourceId, so a text that is not an ARM id never reaches it (ResourceId::parse
//     refuses it first, as the callers of the real client must).
// FakeAzureStore (below) optionally answers like an in-memory Azure: ARM resources by id (GET, PUT,
// PATCH as a merge, DELETE, LIST of a parent's children; 404 ResourceNotFound for what is absent; a PUT of
// {vault}/accessPolicies/add adds the policies to the vault) and
// Graph applications, federated identity credentials and service principals per credential's tenant.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "azure/client.h"
#include "controller/reconciler.h"

namespace anf::reconcilers::testing {

using controller::Json;
using azure::ArmResult;
using azure::AzureError;
using azure::Expected;
using azure::RequestOptions;
using azure::ResourceId;

/// One call the fake received: method ("GET", "graph:PATCH", ...), credential, the id or Graph path, body.
struct FakeCall {
  std::string method;
  std::string credential;
  std::string target;
  Json body;
};

/// An Azure error as Azure sends it (the real client sets retryable from its classifier).
AzureError azureError(int httpStatus, std::string code, std::string message, bool retryable = false);
/// ARM's 404 for `id`.
AzureError notFound(const ResourceId& id);
/// A 2xx ArmResult with `body`.
ArmResult armOk(Json body, int status = 200);

class FakeAzureClient : public azure::AzureClient {
 public:
  // --- ARM -------------------------------------------------------------------------------------
  std::function<Expected<ArmResult>(const std::string&, const ResourceId&, const RequestOptions&)> getFn;
  std::function<Expected<std::vector<Json>>(const std::string&, const ResourceId&, std::string_view,
                                            const RequestOptions&)>
      listFn;
  std::function<Expected<ArmResult>(const std::string&, const ResourceId&, const Json&, const RequestOptions&)> putFn;
  std::function<Expected<ArmResult>(const std::string&, const ResourceId&, const Json&, const RequestOptions&)> patchFn;
  std::function<Expected<ArmResult>(const std::string&, const ResourceId&, const RequestOptions&)> removeFn;
  std::function<Expected<ArmResult>(const std::string&, const ResourceId&, std::string_view, const Json&,
                                    const RequestOptions&)>
      postFn;
  std::function<azure::PollResult(const azure::OperationState&)> pollFn;
  // --- Graph -----------------------------------------------------------------------------------
  std::function<Expected<Json>(const std::string&, const std::string& displayName, const std::string& audience)>
      createApplicationFn;
  std::function<Expected<std::vector<Json>>(const std::string&, const std::string& filter)> listApplicationsFn;
  std::function<Expected<void>(const std::string&, const std::string& objectId, const Json&)> updateApplicationFn;
  std::function<Expected<void>(const std::string&, const std::string& objectId)> deleteApplicationFn;
  std::function<Expected<Json>(const std::string&, const std::string& objectId, const Json&)> createFederatedCredentialFn;
  std::function<Expected<std::vector<Json>>(const std::string&, const std::string& objectId)> listFederatedCredentialsFn;
  std::function<Expected<void>(const std::string&, const std::string& objectId, const std::string& credentialId,
                               const Json&)>
      updateFederatedCredentialFn;
  std::function<Expected<Json>(const std::string&, const std::string& appId)> createServicePrincipalFn;
  std::function<Expected<std::optional<Json>>(const std::string&, const std::string& appId)> findServicePrincipalFn;

  /// The configured credential names (the default first).
  std::vector<std::string> credentials{"provider", "customer"};
  /// Every call, in order.
  std::vector<FakeCall> calls;
  /// Principals noteGrant() was told about.
  std::vector<std::string> grantsNoted;

  /// The calls whose method is `method` ("PUT", "graph:DELETE") and whose target ends with `suffix`.
  std::vector<FakeCall> callsTo(std::string_view method, std::string_view suffix = "") const;
  /// Every call that is not a read.
  std::vector<FakeCall> writes() const;

  pplx::task<Expected<ArmResult>> get(const std::string& credential, const ResourceId& id,
                                      RequestOptions options = {}) override;
  pplx::task<Expected<std::vector<Json>>> list(const std::string& credential, const ResourceId& parent,
                                               std::string_view childType, RequestOptions options = {}) override;
  pplx::task<Expected<ArmResult>> put(const std::string& credential, const ResourceId& id, Json body,
                                      RequestOptions options = {}) override;
  pplx::task<Expected<ArmResult>> patch(const std::string& credential, const ResourceId& id, Json body,
                                        RequestOptions options = {}) override;
  pplx::task<Expected<ArmResult>> remove(const std::string& credential, const ResourceId& id,
                                         RequestOptions options = {}) override;
  pplx::task<Expected<ArmResult>> post(const std::string& credential, const ResourceId& id, std::string_view action,
                                       Json body = nullptr, RequestOptions options = {}) override;
  pplx::task<azure::PollResult> pollOperation(const azure::OperationState& operation) override;
  pplx::task<azure::PollResult> waitForOperation(const azure::OperationState& operation,
                                                 std::chrono::milliseconds timeout) override;

  pplx::task<Expected<Json>> createApplication(const std::string& credential, const std::string& displayName,
                                               const std::string& signInAudience = "AzureADMultipleOrgs") override;
  pplx::task<Expected<std::optional<Json>>> findApplicationByAppId(const std::string& credential,
                                                                   const std::string& appId) override;
  pplx::task<Expected<std::vector<Json>>> listApplications(const std::string& credential,
                                                           const std::string& filter = "") override;
  pplx::task<Expected<void>> updateApplication(const std::string& credential, const std::string& applicationObjectId,
                                               Json properties) override;
  pplx::task<Expected<void>> deleteApplication(const std::string& credential,
                                               const std::string& applicationObjectId) override;
  pplx::task<Expected<Json>> createFederatedIdentityCredential(const std::string& credential,
                                                               const std::string& applicationObjectId,
                                                               Json body) override;
  pplx::task<Expected<std::vector<Json>>> listFederatedIdentityCredentials(
      const std::string& credential, const std::string& applicationObjectId) override;
  pplx::task<Expected<void>> updateFederatedIdentityCredential(const std::string& credential,
                                                               const std::string& applicationObjectId,
                                                               const std::string& credentialId,
                                                               Json properties) override;
  pplx::task<Expected<Json>> createServicePrincipal(const std::string& credential, const std::string& appId) override;
  pplx::task<Expected<std::optional<Json>>> findServicePrincipalByAppId(const std::string& credential,
                                                                        const std::string& appId) override;

  pplx::task<Expected<void>> checkCredential(const std::string& credential,
                                             azure::Audience audience = azure::Audience::ResourceManager) override;
  std::vector<std::string> credentialNames() const override { return credentials; }
  void noteGrant(const std::string& principalObjectId) override { grantsNoted.push_back(principalObjectId); }

 private:
  /// Records the call; the refusal the real client (or Graph) would give, or nullopt to go on.
  std::optional<AzureError> admit(std::string method, const std::string& credential, std::string target, Json body,
                                  bool configured, std::vector<std::string_view> required = {});
};

/// An in-memory Azure. serve() fills every ARM and Graph function of a client that the test left
/// unset (POST and polling stay the test's: their answers are operation-specific).
struct FakeAzureStore {
  std::map<std::string, Json> arm;  // by ResourceId::key()
  struct Directory {
    std::vector<Json> applications;
    std::map<std::string, std::vector<Json>> federatedCredentials;  // by application object id
    std::vector<Json> servicePrincipals;
  };
  std::map<std::string, Directory> graph;  // by credential (one tenant each)
  int nextId = 1;

  /// Stores `body` at `id` (with id and name), as a PUT would; returns the stored resource.
  Json& putArm(const std::string& id, Json body);
  /// The stored resource, or nullptr.
  Json* findArm(const std::string& id);
  /// A new object id, app id, ...: "00000000-0000-4000-8000-00000000000N".
  std::string newGuid();

  void serve(FakeAzureClient& client);

 private:
  void serveArm(FakeAzureClient& client);
  void serveGraph(FakeAzureClient& client);
  Json* findApplication(const std::string& credential, const std::string& objectId);
};

}  // namespace anf::reconcilers::testing
