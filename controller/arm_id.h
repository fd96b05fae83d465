#pragma once
// Azure Resource Manager resource IDs:
//   /subscriptions/{sub}/resourceGroups/{rg}/providers/{Namespace}/{type}/{name}[/{childType}/{childName}]...
// Keywords, namespaces and types compare case-insensitively, as ARM does.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anf::controller {

struct ArmId {
  std::string subscriptionId;
  std::string resourceGroup;
  std::string providerNamespace;  // "Microsoft.Network"
  std::vector<std::string> types;  // {"virtualNetworks", "subnets"}
  std::vector<std::string> names;  // {"anf-vnet", "endpoints"}

  /// "Microsoft.Network/virtualNetworks/subnets"
  std::string resourceType() const;
  /// The last name ("endpoints").
  const std::string& name() const { return names.back(); }
  /// The ID of the parent resource (a subnet's VNet), or nullopt for a top-level resource.
  std::optional<ArmId> parent() const;
  /// Renders the ID back ("/subscriptions/.../subnets/endpoints").
  std::string str() const;
  /// Is this resource of `type` (case-insensitive)?
  bool isType(std::string_view type) const;
};

/// Parses an ARM resource ID; nullopt when the syntax is wrong.
std::optional<ArmId> parseArmId(std::string_view id);

/// Case-insensitive equality of two IDs (ARM IDs are case-insensitive).
bool sameArmId(std::string_view a, std::string_view b);

/// The VNet ID of a subnet ID, or nullopt when `subnetId` is not a subnet ID.
std::optional<std::string> virtualNetworkOfSubnet(std::string_view subnetId);

}  // namespace anf::controller
