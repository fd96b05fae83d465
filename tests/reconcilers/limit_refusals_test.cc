// ANF limit and quota refusals (reconcilers/limit_refusals.h): Azure's words kept, a resolution naming the
// limit appended, and the class the engine acts on.
#include "reconcilers/limit_refusals.h"

#include <gtest/gtest.h>

#include "reconcilers/arm_calls.h"

namespace anf::reconcilers {
namespace {

using controller::ErrorClass;

constexpr const char* kLearnMore =
    " To learn more about Azure NetApp Files capacity constraints, see Resource limits for Azure NetApp Files "
    "https://docs.microsoft.com/azure/azure-netapp-files/azure-netapp-files-resource-limits";

struct LimitCase {
  std::string name;
  int status;
  std::string code;
  std::string message;  // as the emulator (netapp_limits.cc) sends it
  ErrorClass want;
  std::string limitNamed;  // words the resolution must hold
};

class LimitRefusals : public ::testing::TestWithParam<LimitCase> {};

TEST_P(LimitRefusals, KeepAzuresWordsAddTheResolutionAndClassify) {
  const LimitCase& c = GetParam();
  const auto error = fromAzure(azure::AzureError{.httpStatus = c.status, .code = c.code, .message = c.message});
  EXPECT_EQ(error.reason, c.code);
  EXPECT_EQ(error.errorClass, c.want) << error.message;
  EXPECT_TRUE(error.message.starts_with(c.message.substr(0, c.message.find(kLearnMore)))) << error.message;
  EXPECT_NE(error.message.find(". Resolution: "), std::string::npos) << error.message;
  EXPECT_NE(error.message.find(c.limitNamed), std::string::npos) << error.message;
  ASSERT_TRUE(error.azure);
  EXPECT_EQ(error.azure->message, c.message);
  // A quota is looked at again at resync (no retry hint: the engine waits for the resync), never in a loop.
  EXPECT_FALSE(error.retryAfter.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Table, LimitRefusals,
    ::testing::Values(
        LimitCase{"RegionalCapacityQuota", 409, "SizeQuotaExceeded",
                  std::string("Creating a new capacityPool of size 24 TiB would exceed the regional quota of 25 TiB. Current "
                              "usage is 4 TiB.") + kLearnMore,
                  ErrorClass::WaitsForAzure, "quota increase for \"Regional capacity quota per subscription\" (default 25 TiB, adjustable"},
        LimitCase{"AccountsPerRegion", 409, "AccountQuotaExceeded",
                  std::string("Creating a new netAppAccount would exceed the limit of 10 NetApp accounts per region per "
                              "subscription in 'eastus'. Current usage is 10.") + kLearnMore,
                  ErrorClass::WaitsForAzure, "\"Number of NetApp accounts per Azure region per subscription\" (default 10, adjustable"},
        LimitCase{"PoolsPerAccount", 409, "PoolQuotaExceeded",
                  std::string("Creating a new capacityPool would exceed the limit of 25 capacity pools per NetApp account. "
                              "Current usage is 25.") + kLearnMore,
                  ErrorClass::WaitsForAzure, "\"Number of capacity pools per NetApp account\""},
        LimitCase{"VolumesPerPool", 409, "VolumeQuotaExceeded",
                  std::string("Creating a new volume would exceed the limit of 500 volumes per capacity pool. Current usage "
                              "is 500.") + kLearnMore,
                  ErrorClass::WaitsForAzure, "\"Number of volumes per capacity pool\""},
        LimitCase{"VolumesPerSubscription", 409, "VolumeQuotaExceeded",
                  std::string("Creating a new volume would exceed the limit of 500 volumes per subscription. Current usage "
                              "is 500.") + kLearnMore,
                  ErrorClass::WaitsForAzure, "\"Number of volumes per subscription\""},
        LimitCase{"PoolTooSmallForItsVolumes", 400, "PoolSizeTooSmall", "Pool size too small for total volume size.",
                  ErrorClass::WaitsForAzure, "Grow the capacity pool"},
        LimitCase{"PoolSizeOutOfRange", 400, "InvalidPoolSize",
                  "The capacity pool size must be a multiple of 1 TiB (1099511627776 bytes), at least 1 TiB and at most "
                  "2048 TiB.",
                  ErrorClass::NeedsDocumentChange, "\"Minimum size of a single capacity pool\" (1 TiB, not adjustable)"},
        LimitCase{"VolumeSizeOutOfRange", 400, "InvalidValueReceived",
                  "An invalid value '53687091200' was received for Volume.UsageThreshold. Must be between 107374182400 "
                  "and 109951162777600 for a regular volume.",
                  ErrorClass::NeedsDocumentChange, "\"Minimum size of a single regular volume\" (100 GiB)"},
        LimitCase{"SecondDelegatedSubnet", 400, "SubnetDelegationLimitExceeded",
                  "Only one subnet per virtual network can be delegated to Microsoft.NetApp/volumes: virtual network 'v' "
                  "already holds Azure NetApp Files volumes in subnet 's'.",
                  ErrorClass::NeedsDocumentChange, "per Azure Virtual Network\" is 1, not adjustable"}),
    [](const auto& info) { return info.param.name; });

TEST(LimitRefusalsDetails, TheStatusLineOfARegionalQuotaRefusal) {
  const auto error = fromAzure(azure::AzureError{
      .httpStatus = 409, .code = "SizeQuotaExceeded",
      .message = std::string("Creating a new capacityPool of size 24 TiB would exceed the regional quota of 25 TiB. Current "
                             "usage is 4 TiB.") + kLearnMore});
  EXPECT_EQ(error.message,
            std::string("Creating a new capacityPool of size 24 TiB would exceed the regional quota of 25 TiB. Current usage "
                        "is 4 TiB.") + kLearnMore +
                ". Resolution: Request a quota increase for \"Regional capacity quota per subscription\" (default 25 TiB, "
                "adjustable via support request), or free capacity in this region by deleting or shrinking other capacity pools");
}

TEST(LimitRefusalsDetails, OtherCodesAreNoLimitRefusal) {
  // InvalidValueReceived for another field is no volume size refusal: Azure's words stay alone.
  const auto error = fromAzure(azure::AzureError{.httpStatus = 400, .code = "InvalidValueReceived",
                                                 .message = "An invalid value 'x' was received for Volume.ServiceLevel."});
  EXPECT_EQ(error.message, "An invalid value 'x' was received for Volume.ServiceLevel.");
  EXPECT_EQ(findLimitRefusal({.httpStatus = 409, .code = "Conflict"}), nullptr);
}

TEST(LimitRefusalsDetails, ReasonsAreAFixedListOfAzureCodesEachOnce) {
  EXPECT_EQ(limitRefusalReasons(),
            (std::vector<std::string_view>{"SizeQuotaExceeded", "AccountQuotaExceeded", "PoolQuotaExceeded", "VolumeQuotaExceeded",
                                           "PoolSizeTooSmall", "InvalidPoolSize", "InvalidValueReceived",
                                           "SubnetDelegationLimitExceeded"}));
}

}  // namespace
}  // namespace anf::reconcilers
