// Azure NetApp Files resource limits; the limits and their source are in netapp_limits.h.
#include "emulator/providers/netapp_limits.h"

#include <array>

#include "emulator/providers/key_checks.h"
#include "emulator/providers/private_link.h"

namespace anf::emulator::netapplimits {
namespace {

constexpr const char* kAccountType = "Microsoft.NetApp/netAppAccounts";
constexpr const char* kPoolType = "Microsoft.NetApp/netAppAccounts/capacityPools";
constexpr const char* kVolumeType = "Microsoft.NetApp/netAppAccounts/capacityPools/volumes";
constexpr const char* kLimitsKey = "Microsoft.NetApp";
// The tail of Azure's SizeQuotaExceeded message (see regionalQuotaRefusal).
constexpr const char* kLearnMore =
    " To learn more about Azure NetApp Files capacity constraints, see Resource limits for Azure NetApp Files "
    "https://docs.microsoft.com/azure/azure-netapp-files/azure-netapp-files-resource-limits";

constexpr std::int64_t kMinPoolBytes = kTiB;
constexpr std::int64_t kMinRegularVolume = 100 * kGiB;
constexpr std::int64_t kMaxRegularVolume = 100 * kTiB;
constexpr std::int64_t kMinLargeVolume = 50 * kTiB;
constexpr std::int64_t kMaxLargeVolume = 500 * kTiB;

/// The adjustable limits by their world-file name.
constexpr std::array<std::pair<const char*, std::int64_t Limits::*>, 6> kAdjustable{{
    {"accountsPerRegion", &Limits::accountsPerRegion},
    {"poolsPerAccount", &Limits::poolsPerAccount},
    {"volumesPerSubscription", &Limits::volumesPerSubscription},
    {"volumesPerPool", &Limits::volumesPerPool},
    {"regionalCapacityTiB", &Limits::regionalCapacityTiB},
    {"maxPoolSizeTiB", &Limits::maxPoolSizeTiB},
}};

std::int64_t integerAt(const Json& object, const char* key) {
  const Json& value = object.value(key, Json());
  return value.is_number_integer() ? value.get<std::int64_t>() : 0;
}

/// A count limit reached. The emulator's words: Azure's code and message for the count limits are not public
/// (searched: azure-rest-api-specs, GitHub issues); they follow SizeQuotaExceeded's shape.
arm::Error countExceeded(const std::string& code, const std::string& creating, std::int64_t limit, const std::string& what,
                         std::size_t usage) {
  return arm::Error{409, code,
                    "Creating a new " + creating + " would exceed the limit of " + std::to_string(limit) + " " + what +
                        ". Current usage is " + std::to_string(usage) + "." + kLearnMore,
                    ""};
}

std::vector<Json*> poolsInRegion(World& world, const std::string& subscriptionId, const std::string& location) {
  std::vector<Json*> pools;
  for (Json* pool : arm::ofType(world, kPoolType, "/subscriptions/" + subscriptionId)) {
    if (arm::iequals(pool->value("location", std::string{}), location)) pools.push_back(pool);
  }
  return pools;
}

/// Azure's words, from a 409 quoted in hashicorp/terraform-provider-azurerm pull request #24514 (2024-02-20):
/// "SizeQuotaExceeded: Creating a new capacityPool of size 8 TiB would exceed the regional quota of 25 TiB. Current
/// usage is 24 TiB. To learn more about ...". A resize is worded by the emulator the same way.
std::optional<arm::Error> regionalQuotaRefusal(World& world, const Json& account, const Json* existing, const std::string& poolId,
                                               std::int64_t size) {
  std::string subscriptionId = arm::subscriptionOf(poolId);
  std::string location = account.value("location", std::string{});
  std::int64_t usage = 0;
  for (Json* pool : poolsInRegion(world, subscriptionId, location)) {
    if (!arm::sameId(pool->value("id", std::string{}), poolId)) usage += integerAt((*pool)["properties"], "size");
  }
  std::int64_t quota = limitsOf(world, subscriptionId).regionalCapacityTiB * kTiB;
  std::int64_t before = existing ? integerAt((*existing)["properties"], "size") : 0;
  if (size <= before || usage + size <= quota) return std::nullopt;
  std::string start = existing ? "Resizing capacityPool '" + arm::lastSegment(poolId) + "' to size "
                               : std::string("Creating a new capacityPool of size ");
  return arm::Error{409, "SizeQuotaExceeded",
                    start + std::to_string(size / kTiB) + " TiB would exceed the regional quota of " + std::to_string(quota / kTiB) +
                        " TiB. Current usage is " + std::to_string((usage + before) / kTiB) + " TiB." + kLearnMore,
                    ""};
}

/// The volumes' total size in a pool, leaving out `volumeId`.
std::int64_t volumesTotal(World& world, const std::string& poolId, const std::string& volumeId) {
  std::int64_t total = 0;
  for (Json* volume : world.children(poolId, "volumes")) {
    if (!arm::sameId(volume->value("id", std::string{}), volumeId)) total += integerAt((*volume)["properties"], "usageThreshold");
  }
  return total;
}

/// Azure's code and words, from the ANF documentation "Troubleshoot cross-region replication" (errors resizing
/// volumes): "PoolSizeTooSmall","message":"Pool size too small for total volume size.". Its HTTP status is not
/// shown there: 400 is the emulator's.
arm::Error poolSizeTooSmall() { return arm::Error{400, "PoolSizeTooSmall", "Pool size too small for total volume size.", ""}; }

/// Azure's start of the message, from a 400 quoted in hashicorp/terraform-provider-azurerm issue #16210:
/// "InvalidValueReceived ... An invalid value '0' was received for Volume.UsageThreshold. Must be 10" — the quote is
/// cut there; the range after "Must be" is the emulator's.
std::optional<arm::Error> volumeSizeRefusal(const Json& properties) {
  bool large = properties.value("isLargeVolume", false);
  std::int64_t low = large ? kMinLargeVolume : kMinRegularVolume;
  std::int64_t high = large ? kMaxLargeVolume : kMaxRegularVolume;
  const Json& threshold = properties.value("usageThreshold", Json());
  if (threshold.is_number_integer() && threshold.get<std::int64_t>() >= low && threshold.get<std::int64_t>() <= high) return std::nullopt;
  return arm::Error{400, "InvalidValueReceived",
                    "An invalid value '" + threshold.dump() + "' was received for Volume.UsageThreshold. Must be between " +
                        std::to_string(low) + " and " + std::to_string(high) + (large ? " for a large volume." : " for a regular volume."),
                    "properties.usageThreshold"};
}

/// The emulator's words (Azure's are not public). The 2022 revision of the limits page allows one subnet delegated
/// to Microsoft.NetApp/volumes per VNet: a volume may not go to a second delegated subnet of a VNet holding volumes.
std::optional<arm::Error> delegatedSubnetRefusal(World& world, const std::string& volumeId, const std::string& subnetId) {
  std::string vnet = keychecks::vnetOfSubnet(subnetId);
  for (Json* other : arm::ofType(world, kVolumeType)) {
    std::string otherSubnet = arm::stringAt(*other, "/properties/subnetId");
    if (arm::sameId(other->value("id", std::string{}), volumeId) || arm::sameId(otherSubnet, subnetId)) continue;
    if (!arm::sameId(keychecks::vnetOfSubnet(otherSubnet), vnet)) continue;
    return arm::Error{400, "SubnetDelegationLimitExceeded",
                      "Only one subnet per virtual network can be delegated to Microsoft.NetApp/volumes: virtual network '" + vnet +
                          "' already holds Azure NetApp Files volumes in subnet '" + otherSubnet + "'.",
                      "properties.subnetId"};
  }
  return std::nullopt;
}

}  // namespace

Limits limitsOf(const World& world, const std::string& subscriptionId) {
  Limits limits;
  const Json raised = world.subscriptionLimits.value(arm::lower(subscriptionId), Json::object()).value(kLimitsKey, Json::object());
  for (const auto& [name, member] : kAdjustable) {
    if (integerAt(raised, name) > 0) limits.*member = integerAt(raised, name);
  }
  return limits;
}

std::string checkRaisedLimits(const Json& limits) {
  if (!limits.is_object()) return "netAppLimits must be a mapping";
  for (const auto& [key, value] : limits.items()) {
    bool known = std::ranges::any_of(kAdjustable, [&](const auto& entry) { return key == entry.first; });
    if (!known) return "netAppLimits: '" + key + "' is no limit a support request can raise (accountsPerRegion, poolsPerAccount, "
                                                 "volumesPerSubscription, volumesPerPool, regionalCapacityTiB, maxPoolSizeTiB)";
    if (!value.is_number_integer() || value.get<std::int64_t>() <= 0) return "netAppLimits." + key + " must be a positive integer";
  }
  return "";
}

std::optional<arm::Error> newAccountRefusal(World& world, const std::string& subscriptionId, const std::string& location) {
  std::size_t usage = 0;
  for (Json* account : arm::ofType(world, kAccountType, "/subscriptions/" + subscriptionId)) {
    usage += arm::iequals(account->value("location", std::string{}), location) ? 1 : 0;
  }
  std::int64_t limit = limitsOf(world, subscriptionId).accountsPerRegion;
  if (static_cast<std::int64_t>(usage) < limit) return std::nullopt;
  return countExceeded("AccountQuotaExceeded", "netAppAccount", limit, "NetApp accounts per region per subscription in '" + location + "'",
                       usage);
}

std::optional<arm::Error> poolRefusal(World& world, const Json& account, const Json* existing, const std::string& poolId,
                                      const Json& properties) {
  Limits limits = limitsOf(world, arm::subscriptionOf(poolId));
  const Json& size = properties.value("size", Json());
  if (!size.is_number_integer() || size.get<std::int64_t>() < kMinPoolBytes || size.get<std::int64_t>() % kTiB != 0 ||
      size.get<std::int64_t>() > limits.maxPoolSizeTiB * kTiB) {
    // The emulator's words: Azure's code and message for a pool size out of range are not public.
    return arm::Error{400, "InvalidPoolSize",
                      "The capacity pool size must be a multiple of 1 TiB (1099511627776 bytes), at least 1 TiB and at most " +
                          std::to_string(limits.maxPoolSizeTiB) + " TiB.",
                      "properties.size"};
  }
  std::string accountId = account.value("id", std::string{});
  std::size_t pools = world.children(accountId, "capacityPools").size();
  if (existing == nullptr && static_cast<std::int64_t>(pools) >= limits.poolsPerAccount) {
    return countExceeded("PoolQuotaExceeded", "capacityPool", limits.poolsPerAccount, "capacity pools per NetApp account", pools);
  }
  if (size.get<std::int64_t>() < volumesTotal(world, poolId, "")) return poolSizeTooSmall();
  return regionalQuotaRefusal(world, account, existing, poolId, size.get<std::int64_t>());
}

std::optional<arm::Error> volumeRefusal(World& world, const Json& pool, const Json* existing, const std::string& volumeId,
                                        const Json& properties) {
  if (auto refused = volumeSizeRefusal(properties)) return refused;
  std::string poolId = pool.value("id", std::string{});
  if (volumesTotal(world, poolId, volumeId) + integerAt(properties, "usageThreshold") > integerAt(pool["properties"], "size")) {
    return poolSizeTooSmall();
  }
  if (existing == nullptr) {
    std::string subscriptionId = arm::subscriptionOf(volumeId);
    Limits limits = limitsOf(world, subscriptionId);
    std::size_t inPool = world.children(poolId, "volumes").size();
    if (static_cast<std::int64_t>(inPool) >= limits.volumesPerPool) {
      return countExceeded("VolumeQuotaExceeded", "volume", limits.volumesPerPool, "volumes per capacity pool", inPool);
    }
    std::size_t inSubscription = arm::ofType(world, kVolumeType, "/subscriptions/" + subscriptionId).size();
    if (static_cast<std::int64_t>(inSubscription) >= limits.volumesPerSubscription) {
      return countExceeded("VolumeQuotaExceeded", "volume", limits.volumesPerSubscription, "volumes per subscription", inSubscription);
    }
  }
  return delegatedSubnetRefusal(world, volumeId, properties.value("subnetId", std::string{}));
}

}  // namespace anf::emulator::netapplimits
