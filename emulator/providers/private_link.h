#pragma once
// The link between a private endpoint (Microsoft.Network) and the connection it creates on its target
// key vault (Microsoft.KeyVault/vaults/privateEndpointConnections). The vault's connection holds the
// state (Pending / Approved / Rejected); the endpoint's view mirrors it.
#include <string>

#include "emulator/provider.h"

namespace anf::emulator::privatelink {

inline constexpr const char* kPrivateEndpointType = "Microsoft.Network/privateEndpoints";
inline constexpr const char* kConnectionType = "Microsoft.KeyVault/vaults/privateEndpointConnections";
inline constexpr const char* kSubnetType = "Microsoft.Network/virtualNetworks/subnets";

/// The resource id the endpoint connects to (privateLinkServiceId of its automatic or manual connection).
std::string targetOf(const Json& privateEndpoint);
/// The endpoint's subnet id.
std::string subnetOf(const Json& privateEndpoint);
/// The connection state as the vault has it: "Pending", "Approved", "Rejected", or "Disconnected"
/// when the vault's connection is gone.
std::string connectionStatus(World& world, const Json& privateEndpoint);
/// Is the subnet delegated to `serviceName` ("Microsoft.NetApp/volumes")?
bool isDelegatedTo(const Json& subnet, const std::string& serviceName);

}  // namespace anf::emulator::privatelink
