#pragma once
// A scripted Azure for the flows' unit tests: routes (method, path prefix) to plain functions and
// records every call, so a test can assert what was (and was not) sent.
#include <functional>
#include <string>
#include <vector>

#include "controller/reconciler.h"
#include "reconcilers/flows/flow_azure.h"

namespace anf::reconcilers::flows::testing {

struct Call {
  std::string surface;  // "arm" or "graph"
  std::string tenant;
  std::string method;
  std::string path;  // without the query
  Json body;
};

class FakeAzure : public FlowAzure {
 public:
  using Handler = std::function<Result<Reply>(const Call&)>;

  /// Routes `method` requests whose path (query stripped) equals `path`, or starts with it when it
  /// ends in '*'. Later routes win.
  void on(std::string method, std::string path, Handler handler) {
    routes_.insert(routes_.begin(), Route{std::move(method), std::move(path), std::move(handler)});
  }
  void onJson(std::string method, std::string path, Json body, int status = 200) {
    on(std::move(method), std::move(path), [body, status](const Call&) -> Result<Reply> {
      return Reply{.status = status, .body = body};
    });
  }

  Result<Reply> arm(const std::string& tenant, std::string_view method, const std::string& pathAndQuery,
                    const Json& body) override {
    return handle(Call{"arm", tenant, std::string(method), pathAndQuery.substr(0, pathAndQuery.find("?api-version")), body});
  }
  Result<Reply> graph(const std::string& tenant, std::string_view method, const std::string& path,
                      const Json& body) override {
    return handle(Call{"graph", tenant, std::string(method), path, body});
  }

  const std::vector<Call>& calls() const { return calls_; }
  std::vector<Call> callsTo(const std::string& method, const std::string& pathSuffix) const {
    std::vector<Call> out;
    for (const auto& call : calls_)
      if (call.method == method && call.path.ends_with(pathSuffix)) out.push_back(call);
    return out;
  }
  std::vector<Call> writes() const {
    std::vector<Call> out;
    for (const auto& call : calls_)
      if (call.method != "GET") out.push_back(call);
    return out;
  }

 private:
  struct Route {
    std::string method;
    std::string path;
    Handler handler;
  };
  Result<Reply> handle(Call call) {
    calls_.push_back(call);
    for (const auto& route : routes_) {
      if (route.method != call.method) continue;
      bool prefix = route.path.ends_with('*');
      std::string want = prefix ? route.path.substr(0, route.path.size() - 1) : route.path;
      if (prefix ? call.path.starts_with(want) : call.path == want) return route.handler(call);
    }
    return Reply{.status = 404};
  }

  std::vector<Route> routes_;
  std::vector<Call> calls_;
};

/// An ObservationCache that caches for the life of the test.
class MapCache : public controller::ObservationCache {
 public:
  Result<Json> getOrLoad(const std::string& key, const std::function<Result<Json>()>& load) override {
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
    auto value = load();
    if (value) entries_[key] = *value;
    return value;
  }
  void invalidate(const std::string& key) override { entries_.erase(key); }

 private:
  std::map<std::string, Json> entries_;
};

/// The default world's names (BRIEF.md).
inline const std::string kProviderSub = "10000000-0000-4000-8000-0000000000a1";
inline const std::string kCustomerSub = "20000000-0000-4000-8000-0000000000b1";
inline const std::string kProviderTenantId = "10000000-0000-4000-8000-000000000001";
inline const std::string kCustomerTenantId = "20000000-0000-4000-8000-000000000002";
inline const std::string kRg = "/subscriptions/" + kProviderSub + "/resourceGroups/anf-rg";
inline const std::string kVnet = kRg + "/providers/Microsoft.Network/virtualNetworks/anf-vnet";
inline const std::string kVnet2 = kRg + "/providers/Microsoft.Network/virtualNetworks/anf-vnet-2";
inline const std::string kAccountId = kRg + "/providers/Microsoft.NetApp/netAppAccounts/acct";
inline const std::string kPoolId = kAccountId + "/capacityPools/pool1";

/// A document with spec.azure coordinates in the provider's anf-rg.
inline controller::Document document(controller::Kind kind, std::string name, Json spec,
                                     std::string tenant = "provider") {
  controller::Document doc;
  doc.key = {kind, name};
  doc.azure = controller::AzureCoordinates{.tenant = tenant, .subscriptionId = kProviderSub,
                                           .resourceGroup = "anf-rg", .location = "eastus", .name = name};
  doc.spec = std::move(spec);
  return doc;
}

/// The pieces a ReconcileContext points at, kept alive together.
struct World {
  controller::DesiredState desired;
  std::map<controller::DocumentKey, controller::ResourceStatus> statuses;
  controller::ResourceStatus self;
  MapCache cache;

  void add(controller::Document doc) { desired.documents[doc.key] = std::move(doc); }
  controller::ReconcileContext context(const controller::DocumentKey& key) {
    return controller::ReconcileContext{
        .document = desired.documents.at(key),
        .statusOf = [this](const controller::DocumentKey& k) -> const controller::ResourceStatus* {
          auto it = statuses.find(k);
          return it == statuses.end() ? nullptr : &it->second;
        },
        .desired = desired,
        .cache = cache,
        .self = self};
  }
};

}  // namespace anf::reconcilers::flows::testing
