#pragma once
// A typed Azure Resource Manager resource id.
//
// Grammar handled (keywords case-insensitive, as ARM treats them):
//   [/subscriptions/{sub} [/resourceGroups/{rg}]] {/providers/{Namespace}/{type}/{name}[/{type}/{name}]...}*
// Several `providers` blocks make an extension resource: everything before the last block is its
// scope (a role assignment on a vault:
//   .../Microsoft.KeyVault/vaults/v/providers/Microsoft.Authorization/roleAssignments/{guid}).
// A `providers` segment right after a namespace (no type/name pair yet) is an ordinary type, so the
// feature id /subscriptions/s/providers/Microsoft.Features/providers/Microsoft.NetApp/features/F has
// namespace Microsoft.Features and type "Microsoft.Features/providers/features", as ARM reports.
// Also valid: "/subscriptions/{sub}" (type Microsoft.Resources/subscriptions), a resource group
// (Microsoft.Resources/resourceGroups), and "/subscriptions/{sub}/providers/{Namespace}" (a resource
// provider, type Microsoft.Resources/providers). A trailing '/' is accepted and dropped.
//
// Ids keep the spelling they were parsed with (str() returns it) but compare case-insensitively.
#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anf::azure {

class ResourceId {
 public:
  /// One `{type}/{name}` pair below a provider namespace.
  struct TypeName {
    std::string type;
    std::string name;
  };

  /// Parses an ARM id; the error says what is wrong and where ("segment 5: expected 'providers'...").
  static std::expected<ResourceId, std::string> parse(std::string_view id);

  /// "/subscriptions/{sub}".
  static ResourceId subscription(std::string subscriptionId);
  /// "/subscriptions/{sub}/resourceGroups/{rg}".
  static ResourceId resourceGroup(std::string subscriptionId, std::string resourceGroup);
  /// A top-level resource in a resource group: fullType is "Namespace/type" ("Microsoft.NetApp/netAppAccounts").
  static ResourceId inResourceGroup(std::string subscriptionId, std::string resourceGroup, std::string_view fullType,
                                    std::string name);

  /// "" for tenant-level ids (/providers/Microsoft.Authorization/roleDefinitions/{guid}).
  const std::string& subscriptionId() const { return subscription_; }
  /// "" when the id is not inside a resource group.
  const std::string& resourceGroup() const { return resourceGroup_; }
  /// Namespace of the last providers block ("Microsoft.NetApp"); "Microsoft.Resources" for a
  /// subscription, resource group or resource provider id. This selects the api-version.
  std::string providerNamespace() const;
  /// Types of the last providers block, without the namespace: {"virtualNetworks", "subnets"}.
  std::vector<std::string> types() const;
  /// Names of the last providers block: {"anf-vnet", "endpoints"}.
  std::vector<std::string> names() const;
  /// "Microsoft.Network/virtualNetworks/subnets"; "Microsoft.Resources/resourceGroups" etc.
  std::string resourceType() const;
  /// The last name ("endpoints"); the resource group name, subscription id or namespace for those ids.
  std::string name() const;

  /// The enclosing resource: a subnet's VNet, a top-level resource's resource group, a resource
  /// group's subscription, an extension resource's scope. nullopt for a subscription or tenant-level id.
  std::optional<ResourceId> parent() const;
  /// For an extension resource, the resource it extends; nullopt otherwise.
  std::optional<ResourceId> scope() const;
  /// A child: `type` is either a plain type under this resource's namespace ("subnets"), or
  /// "Namespace/type" which starts a new providers block (a top-level resource under a resource group,
  /// or an extension resource such as "Microsoft.Authorization/roleAssignments" under a vault).
  ResourceId child(std::string_view type, std::string name) const;

  /// The id as text, in the spelling it was built with.
  std::string str() const;
  /// Lower-case form, for map keys and hashing.
  std::string key() const;

  /// Case-insensitive, as ARM compares ids.
  friend bool operator==(const ResourceId& a, const ResourceId& b);
  friend bool operator<(const ResourceId& a, const ResourceId& b) { return a.key() < b.key(); }

 private:
  struct Block {
    std::string ns;
    std::vector<TypeName> pairs;
  };
  ResourceId() = default;

  std::string subscription_;
  std::string resourceGroup_;
  std::vector<Block> blocks_;
};

/// Case-insensitive ASCII equality (resource types, namespaces, error codes).
bool equalsIgnoreCase(std::string_view a, std::string_view b);

/// true when `id` parses and its resourceType() equals `resourceType` (case-insensitive), e.g.
/// isResourceType(subnetId, "Microsoft.Network/virtualNetworks/subnets").
bool isResourceType(std::string_view id, std::string_view resourceType);

/// The parse error for an id that is not of `resourceType`, or nullopt when it is: for validators that
/// print "expected a Microsoft.Network/virtualNetworks/subnets id, got Microsoft.Network/virtualNetworks".
std::optional<std::string> checkResourceType(std::string_view id, std::string_view resourceType);

/// The VNet id of a subnet id ("/subscriptions/.../virtualNetworks/v/subnets/s" -> ".../virtualNetworks/v"),
/// or "" when `subnetId` is not a subnet id.
std::string virtualNetworkOf(std::string_view subnetId);

}  // namespace anf::azure

template <>
struct std::hash<anf::azure::ResourceId> {
  std::size_t operator()(const anf::azure::ResourceId& id) const { return std::hash<std::string>{}(id.key()); }
};
