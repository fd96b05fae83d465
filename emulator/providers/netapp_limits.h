#pragma once
// Azure NetApp Files resource limits, as the emulator enforces them on account, pool and volume writes.
// Source: "Resource limits for Azure NetApp Files",
//   https://learn.microsoft.com/azure/azure-netapp-files/azure-netapp-files-resource-limits (English revision read
//   at https://learn.microsoft.com/sl-si/azure/azure-netapp-files/azure-netapp-files-resource-limits, which lists:
//   regional capacity quota 25 TiB, 10 accounts per region per subscription, 25 pools per account, 500 volumes per
//   subscription and per pool — all "adjustable via support request" —, pools 1 TiB (not adjustable) .. 2,048 TiB
//   (adjustable), regular volumes 100 GiB .. 100 TiB, large volumes 50 TiB .. 500 TiB (none adjustable); the
//   2022 revision, https://docs.microsoft.com/en-au/azure/azure-netapp-files/azure-netapp-files-resource-limits,
//   lists "Number of subnets delegated to Azure NetApp Files (Microsoft.NetApp/volumes) per Azure Virtual Network: 1").
//
// What Azure answers, where its words are public (each refusal's source is beside it in netapp_limits.cc); the
// others are the emulator's words, modelled on SizeQuotaExceeded and marked so there.
// The adjustable limits are raised per subscription by the world file:
//   tenants: [{..., subscriptions: [{subscriptionId: S, netAppLimits: {accountsPerRegion: 12, regionalCapacityTiB: 50}}]}]
#include <cstdint>
#include <optional>
#include <string>

#include "emulator/provider.h"
#include "emulator/providers/arm.h"

namespace anf::emulator::netapplimits {

inline constexpr std::int64_t kGiB = 1073741824;
inline constexpr std::int64_t kTiB = 1099511627776;

/// One subscription's adjustable limits: the page's defaults, or what the world file raised them to.
struct Limits {
  std::int64_t accountsPerRegion = 10;
  std::int64_t poolsPerAccount = 25;
  std::int64_t volumesPerSubscription = 500;
  std::int64_t volumesPerPool = 500;
  std::int64_t regionalCapacityTiB = 25;
  std::int64_t maxPoolSizeTiB = 2048;
};
Limits limitsOf(const World& world, const std::string& subscriptionId);

/// A world file's netAppLimits: "" when every key names an adjustable limit with a positive integer, else why not.
std::string checkRaisedLimits(const Json& limits);

/// A new account in `location` beyond accountsPerRegion.
std::optional<arm::Error> newAccountRefusal(World& world, const std::string& subscriptionId, const std::string& location);

/// A pool PUT/PATCH: size (multiple of 1 TiB, 1 TiB .. maxPoolSizeTiB), count per account (on create), the
/// regional capacity quota (on create and growth), and no shrink below its volumes' total.
std::optional<arm::Error> poolRefusal(World& world, const Json& account, const Json* existing, const std::string& poolId,
                                      const Json& properties);

/// A volume PUT/PATCH: size range (regular or large), the room left in its pool, the counts per pool and
/// subscription (on create), and one delegated subnet per VNet.
std::optional<arm::Error> volumeRefusal(World& world, const Json& pool, const Json* existing, const std::string& volumeId,
                                        const Json& properties);

}  // namespace anf::emulator::netapplimits
