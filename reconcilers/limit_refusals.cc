#include "reconcilers/limit_refusals.h"

#include <algorithm>
#include <array>

namespace anf::reconcilers {
namespace {

// The limits' names and defaults are the page's table (2024 revision); "adjustable" is its third column.
constexpr std::array<LimitRefusal, 9> kRows{{
    {"SizeQuotaExceeded", "",
     "Request a quota increase for \"Regional capacity quota per subscription\" (default 25 TiB, adjustable via "
     "support request), or free capacity in this region by deleting or shrinking other capacity pools",
     true},
    {"AccountQuotaExceeded", "",
     "Request a quota increase for \"Number of NetApp accounts per Azure region per subscription\" (default 10, "
     "adjustable via support request), or delete an unused NetApp account in this region",
     true},
    {"PoolQuotaExceeded", "",
     "Request a quota increase for \"Number of capacity pools per NetApp account\" (default 25, adjustable via "
     "support request), or delete an unused capacity pool of this account",
     true},
    {"VolumeQuotaExceeded", "per capacity pool",
     "Request a quota increase for \"Number of volumes per capacity pool\" (default 500, adjustable via support "
     "request), or place the volume in another capacity pool",
     true},
    {"VolumeQuotaExceeded", "",
     "Request a quota increase for \"Number of volumes per subscription\" (default 500, adjustable via support "
     "request), or delete unused volumes in this subscription",
     true},
    // The pool's room, not a page limit: cured by the pool's document growing it (or another volume
    // shrinking), which this document sees at resync.
    {"PoolSizeTooSmall", "",
     "Grow the capacity pool (its size must cover the total size of its volumes) or shrink the volume", true},
    {"InvalidPoolSize", "",
     "Set the pool size to a multiple of 1 TiB between \"Minimum size of a single capacity pool\" (1 TiB, not "
     "adjustable) and \"Maximum size of a single capacity pool\" (2,048 TiB, adjustable via support request)",
     false},
    {"InvalidValueReceived", "Volume.UsageThreshold",
     "Set the volume size within \"Minimum size of a single regular volume\" (100 GiB) and \"Maximum size of a "
     "single regular volume\" (100 TiB), or for a large volume \"Minimum size of a single large volume\" (50 TiB) and "
     "\"Maximum size of a single large volume\" (500 TiB); none is adjustable via support request",
     false},
    {"SubnetDelegationLimitExceeded", "",
     "Use the subnet already delegated to Microsoft.NetApp/volumes in this virtual network: \"Number of subnets "
     "delegated to Azure NetApp Files (Microsoft.NetApp/volumes) per Azure Virtual Network\" is 1, not adjustable "
     "via support request",
     false},
}};

}  // namespace

const LimitRefusal* findLimitRefusal(const azure::AzureError& error) {
  for (const LimitRefusal& row : kRows) {
    if (row.code != error.code) continue;
    if (row.messageMarker.empty() || error.message.find(row.messageMarker) != std::string::npos) return &row;
  }
  return nullptr;
}

const std::vector<std::string_view>& limitRefusalReasons() {
  static const std::vector<std::string_view> reasons = [] {
    std::vector<std::string_view> out;
    for (const LimitRefusal& row : kRows)
      if (std::ranges::find(out, row.code) == out.end()) out.push_back(row.code);
    return out;
  }();
  return reasons;
}

}  // namespace anf::reconcilers
