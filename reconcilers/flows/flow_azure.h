#pragma once
// The narrow door the flows use to reach Azure: one ARM request and one Graph request, by credential
// name. The flows need a handful of verbs on a handful of paths; keeping the door this small lets the
// unit tests script Azure with plain functions (crossplane's ExternalClientFns) and leaves
// authentication, retries, throttling and error classification to azure/ (the adapter over
// azure::Client implements FlowAzure).
//
// Contract of both calls:
//   - 2xx and 404 come back as a Reply (a 404 is an answer, "absent", not a failure);
//   - every other status comes back as a ReconcileError already classified (retryable or terminal)
//     with Azure's code as `reason` and Azure's message verbatim;
//   - a 201/202 that started a long-running operation carries its poll state (azure::OperationState
//     as JSON) in Reply::operation; the flows never poll, they hand it to the engine in an Outcome.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "controller/reconciler.h"

namespace anf::reconcilers::flows {

using controller::Json;
using controller::ReconcileError;
template <typename T>
using Result = controller::Result<T>;

/// One answer from Azure.
struct Reply {
  int status = 200;
  Json body = Json::object();
  std::optional<Json> operation;  // poll state of a started long-running operation
  bool found() const { return status != 404; }
};

/// The Azure calls of the flows. `tenant` is a credential name of the operator configuration
/// ("provider", "customer"). `method` is "GET", "PUT", "PATCH", "POST" or "DELETE".
class FlowAzure {
 public:
  virtual ~FlowAzure() = default;
  /// One ARM request. `pathAndQuery` is an ARM path with its `api-version` (see armPath()).
  virtual Result<Reply> arm(const std::string& tenant, std::string_view method, const std::string& pathAndQuery,
                            const Json& body) = 0;
  /// One Microsoft Graph request, `path` relative to the Graph endpoint ("/v1.0/applications"), its
  /// OData query unencoded ("/v1.0/servicePrincipals?$filter=appId eq '...'"): the adapter encodes.
  virtual Result<Reply> graph(const std::string& tenant, std::string_view method, const std::string& path,
                              const Json& body) = 0;
};
using FlowAzurePtr = std::unique_ptr<FlowAzure>;

/// FlowAzure from plain functions, for tests and for adapters.
struct FlowAzureFns : FlowAzure {
  std::function<Result<Reply>(const std::string&, std::string_view, const std::string&, const Json&)> armFn;
  std::function<Result<Reply>(const std::string&, std::string_view, const std::string&, const Json&)> graphFn;
  Result<Reply> arm(const std::string& tenant, std::string_view method, const std::string& pathAndQuery,
                    const Json& body) override {
    return armFn(tenant, method, pathAndQuery, body);
  }
  Result<Reply> graph(const std::string& tenant, std::string_view method, const std::string& path,
                      const Json& body) override {
    return graphFn(tenant, method, path, body);
  }
};

/// `path` + "?api-version=" + the operator's version for `providerNamespace` (azure/api_versions.h).
std::string armPath(const std::string& path, const std::string& providerNamespace);

/// ARM ids compare case-insensitively (Azure echoes `resourcegroups` in lower case, for example).
bool sameId(std::string_view a, std::string_view b);

/// The virtual network id of a subnet id (".../virtualNetworks/v/subnets/s" -> ".../virtualNetworks/v");
/// empty when `subnetId` is not a subnet id.
std::string virtualNetworkOfSubnet(std::string_view subnetId);

/// The last segment of an ARM id (the resource name).
std::string lastSegment(std::string_view id);

/// The wall clock in RFC 3339 (UTC, seconds). Injectable so tests and status stay deterministic.
using Clock = std::function<std::string()>;
std::string utcNow();

}  // namespace anf::reconcilers::flows
