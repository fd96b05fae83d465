#include "azure/api_versions.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace anf::azure {

const std::map<std::string, std::string>& apiVersions() {
  static const std::map<std::string, std::string> table = {
      {"Microsoft.NetApp", "2025-06-01"},           {"Microsoft.KeyVault", "2024-11-01"},
      {"Microsoft.ManagedIdentity", "2024-11-30"},  {"Microsoft.Network", "2024-05-01"},
      {"Microsoft.Authorization", "2022-04-01"},    {"Microsoft.Features", "2021-07-01"},
      {"Microsoft.Resources", "2021-04-01"},
  };
  return table;
}

const std::string& apiVersionFor(const std::string& providerNamespace) {
  for (const auto& [ns, version] : apiVersions()) {
    if (std::ranges::equal(ns, providerNamespace, [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return version;
  }
  throw std::out_of_range("no api-version for resource provider " + providerNamespace);
}

}  // namespace anf::azure
