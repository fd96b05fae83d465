#pragma once
// The api-version the operator sends to each resource provider: one table, one place to change.
#include <map>
#include <string>

namespace anf::azure {

/// Resource provider namespace ("Microsoft.NetApp") -> api-version ("2025-06-01").
const std::map<std::string, std::string>& apiVersions();

/// The api-version for a namespace (case-insensitive); throws std::out_of_range for an unknown one.
const std::string& apiVersionFor(const std::string& providerNamespace);

}  // namespace anf::azure
