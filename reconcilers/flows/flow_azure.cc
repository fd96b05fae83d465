#include "reconcilers/flows/flow_azure.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "azure/api_versions.h"
#include "azure/resource_id.h"

namespace anf::reconcilers::flows {

std::string armPath(const std::string& path, const std::string& providerNamespace) {
  return path + "?api-version=" + azure::apiVersionFor(providerNamespace);
}

bool sameId(std::string_view a, std::string_view b) {
  auto left = azure::ResourceId::parse(a);
  auto right = azure::ResourceId::parse(b);
  if (left && right) return *left == *right;
  return azure::equalsIgnoreCase(a, b);
}

std::string virtualNetworkOfSubnet(std::string_view subnetId) {
  auto id = azure::ResourceId::parse(subnetId);
  if (!id || !azure::equalsIgnoreCase(id->resourceType(), "Microsoft.Network/virtualNetworks/subnets")) return {};
  return id->parent()->str();
}

std::string lastSegment(std::string_view id) {
  auto parsed = azure::ResourceId::parse(id);
  if (parsed) return parsed->name();
  auto at = id.rfind('/');
  return std::string(at == std::string_view::npos ? id : id.substr(at + 1));
}

std::string utcNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

}  // namespace anf::reconcilers::flows
