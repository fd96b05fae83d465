#include "reconcilers/flows/flow_azure_client.h"

#include <map>

#include "azure/client.h"
#include "reconcilers/arm_calls.h"

namespace anf::reconcilers::flows {

namespace {

/// "path?a=1&b=2" -> path and the parameters other than api-version.
std::pair<std::string, std::map<std::string, std::string>> splitQuery(const std::string& pathAndQuery) {
  auto at = pathAndQuery.find('?');
  std::map<std::string, std::string> query;
  if (at == std::string::npos) return {pathAndQuery, query};
  std::string rest = pathAndQuery.substr(at + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    std::string key = pair.substr(0, eq);
    if (key != "api-version") query[key] = eq == std::string::npos ? "" : pair.substr(eq + 1);
    rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
  }
  return {pathAndQuery.substr(0, at), query};
}

ReconcileError unsupported(std::string_view method, const std::string& path) {
  return ReconcileError{.reason = "GraphRequestUnsupported",
                        .message = "the Azure client has no Graph call for " + std::string(method) + " " + path,
                        .errorClass = controller::ErrorClass::NeedsDocumentChange};
}

Reply replyOf(const azure::ArmResult& result) {
  Reply reply{.status = result.status, .body = result.body.is_null() ? Json::object() : result.body};
  if (result.operation) reply.operation = result.operation->toJson();
  return reply;
}

template <typename T>
Result<Reply> toReply(azure::Expected<T>&& value, const std::function<Reply(T&)>& convert) {
  if (value) return convert(*value);
  if (value.error().isNotFound()) return Reply{.status = 404};
  return std::unexpected(fromAzure(value.error()));
}

/// The value of `$filter=field eq 'value'`, unquoted.
std::string filterValue(const std::string& filter) {
  auto open = filter.find('\'');
  auto close = filter.rfind('\'');
  if (open == std::string::npos || close <= open) return {};
  return filter.substr(open + 1, close - open - 1);
}

class ClientFlowAzure : public FlowAzure {
 public:
  explicit ClientFlowAzure(azure::AzureClient& client) : client_(client) {}

  Result<Reply> arm(const std::string& tenant, std::string_view method, const std::string& pathAndQuery,
                    const Json& body) override {
    auto [path, query] = splitQuery(pathAndQuery);
    azure::RequestOptions options{.query = query};
    auto convert = [](azure::ArmResult& r) { return replyOf(r); };
    if (method == "POST") {
      auto slash = path.rfind('/');
      auto id = azure::ResourceId::parse(path.substr(0, slash));
      if (!id) return std::unexpected(bad(path, id.error()));
      return toReply<azure::ArmResult>(client_.post(tenant, *id, path.substr(slash + 1), body, options).get(),
                                       convert);
    }
    auto id = azure::ResourceId::parse(path);
    if (!id && method == "GET") return list(tenant, path, options);
    if (!id) return std::unexpected(bad(path, id.error()));
    if (method == "GET") return toReply<azure::ArmResult>(client_.get(tenant, *id, options).get(), convert);
    if (method == "PUT") return toReply<azure::ArmResult>(client_.put(tenant, *id, body, options).get(), convert);
    if (method == "PATCH") return toReply<azure::ArmResult>(client_.patch(tenant, *id, body, options).get(), convert);
    return toReply<azure::ArmResult>(client_.remove(tenant, *id, options).get(), convert);
  }

  Result<Reply> graph(const std::string& tenant, std::string_view method, const std::string& pathAndQuery,
                      const Json& body) override {
    auto at = pathAndQuery.find("?$filter=");
    const std::string path = pathAndQuery.substr(0, at);
    const std::string filter = at == std::string::npos ? "" : pathAndQuery.substr(at + 9);
    auto asValue = [](std::vector<Json>& items) { return Reply{.body = {{"value", items}}}; };
    auto asObject = [](Json& object) { return Reply{.status = 201, .body = object}; };
    constexpr std::string_view kApplications = "/v1.0/applications";
    constexpr std::string_view kCredentials = "/federatedIdentityCredentials";
    if (path == kApplications && method == "GET")
      return toReply<std::vector<Json>>(client_.listApplications(tenant, filter).get(), asValue);
    if (path == kApplications && method == "POST")
      return toReply<Json>(client_
                               .createApplication(tenant, body.value("displayName", ""),
                                                  body.value("signInAudience", "AzureADMultipleOrgs"))
                               .get(),
                           asObject);
    if (path.starts_with(std::string(kApplications) + "/") && path.ends_with(kCredentials)) {
      const std::string objectId =
          path.substr(kApplications.size() + 1, path.size() - kApplications.size() - 1 - kCredentials.size());
      if (method == "GET")
        return toReply<std::vector<Json>>(client_.listFederatedIdentityCredentials(tenant, objectId).get(), asValue);
      if (method == "POST")
        return toReply<Json>(client_.createFederatedIdentityCredential(tenant, objectId, body).get(), asObject);
    }
    if (path == "/v1.0/servicePrincipals" && method == "GET") {
      auto found = client_.findServicePrincipalByAppId(tenant, filterValue(filter)).get();
      if (!found) return std::unexpected(fromAzure(found.error()));
      return Reply{.body = {{"value", *found ? Json::array({**found}) : Json::array()}}};
    }
    if (path == "/v1.0/servicePrincipals" && method == "POST")
      return toReply<Json>(client_.createServicePrincipal(tenant, body.value("appId", "")).get(), asObject);
    return std::unexpected(unsupported(method, path));
  }

 private:
  static ReconcileError bad(const std::string& path, const std::string& why) {
    return ReconcileError{.reason = "InvalidResourceId", .message = path + ": " + why, .errorClass = controller::ErrorClass::NeedsDocumentChange};
  }

  /// A collection path: "{parent}/{childType}" or "{scope}/providers/{Namespace}/{type}".
  Result<Reply> list(const std::string& tenant, const std::string& path, const azure::RequestOptions& options) {
    std::string parentPath;
    std::string childType;
    auto providers = path.rfind("/providers/");
    auto slash = path.rfind('/');
    if (providers != std::string::npos && path.find('/', providers + 11) == path.rfind('/') &&
        providers != 0 && path.substr(0, providers).find("/providers/") != std::string::npos) {
      parentPath = path.substr(0, providers);
      childType = path.substr(providers + 11);
    } else {
      parentPath = path.substr(0, slash);
      childType = path.substr(slash + 1);
    }
    auto parent = azure::ResourceId::parse(parentPath);
    if (!parent) return std::unexpected(bad(path, parent.error()));
    return toReply<std::vector<Json>>(client_.list(tenant, *parent, childType, options).get(),
                                      [](std::vector<Json>& items) { return Reply{.body = {{"value", items}}}; });
  }

  azure::AzureClient& client_;
};

}  // namespace

std::shared_ptr<FlowAzure> makeFlowAzure(azure::AzureClient& client) { return std::make_shared<ClientFlowAzure>(client); }

}  // namespace anf::reconcilers::flows
