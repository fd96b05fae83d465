// End-to-end: the operator under Azure NetApp Files' limits (issue 16). The emulator refuses what Azure refuses
// (emulator/providers/netapp_limits.cc); a document Azure refuses for a quota shows Azure's words, the
// resolution and anf_cmk_documents_refused, is looked at again at resync only, and every other document
// converges. `plan` warned before anything was sent. Fixture: e2e_support.h.
#include "tests/e2e/e2e_support.h"

namespace anf::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// 4 TiB (the quickstart's pool1) + 22 TiB > the default regional capacity quota of 25 TiB.
constexpr const char* kPool2 = R"(apiVersion: anf-cmk.io/v1alpha1
kind: CapacityPool
metadata:
  name: pool2
spec:
  accountRef: anf-account
  serviceLevel: Premium
  sizeTiB: 22
  qosType: Auto
)";
constexpr const char* kRefusedSeries = R"(anf_cmk_documents_refused{kind="CapacityPool",reason="SizeQuotaExceeded"})";

/// The value of `series` in the Prometheus text, or -1 when it is absent.
double seriesValue(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
}

class LimitsE2eTest : public E2eTest {
 protected:
  void addPool2() { std::ofstream(dir_ / "manifests" / "pool2.yaml") << kPool2; }

  /// PUTs the operator sent for pool2 (the emulator's request log).
  long pool2Puts() {
    long n = 0;
    for (const auto& item : emulator_->control("GET", "/_emulator/requests").body.value("items", Json::array()))
      n += item.value("method", "") == "PUT" && item.value("path", "").ends_with("/capacityPools/pool2") ? 1 : 0;
    return n;
  }

  /// The row of `anf-cmk-operator status <what>` for the document (the second line of the table).
  std::string statusLine(const std::string& what) {
    const auto out = dir_ / "status.out";
    const std::string command = "timeout 30 " + std::string(ANF_BINARY) + " status --addr " + operator_->statusAddress() + " " +
                                what + " > " + out.string() + " 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << readFile(out);
    std::istringstream lines(readFile(out));
    std::string header, row;
    std::getline(lines, header);
    std::getline(lines, row);
    return row;
  }

  /// Waits until the others are Ready and pool2 shows `reason` with Azure's answer (azureError); pool2's status
  /// is left in `pool2` as seen then (a refused pool is retried, so a later read may catch it between attempts).
  void awaitOthersReadyAndPool2(const std::string& reason, Json& pool2) {
    Json last;
    const bool reached = await(
        [&] {
          last = operator_->statusJson();
          const auto items = last.is_object() ? last.value("items", Json::array()) : Json::array();
          if (items.size() != 5) return false;
          for (const auto& item : items) {
            const bool isPool2 = item.value("name", "") == "pool2";
            if (!isPool2 && !isReady(item)) return false;
            if (!isPool2) continue;
            if (condition(item, "Ready").value("reason", "") != reason) return false;
            const Json status = item.value("status", Json::object());
            if (!status.is_object() || !status.value("azureError", Json()).is_object()) return false;
            pool2 = item;
          }
          return true;
        },
        90s);
    ASSERT_TRUE(reached) << "last status:\n" << last.dump(2);
  }
};

TEST_F(LimitsE2eTest, APoolOverTheRegionalQuotaShowsAzuresWordsAndTheResolutionWhileTheOthersConverge) {
  // Before sending: the manifests alone exceed the default quota.
  addPool2();
  auto [code, output] = plan();
  EXPECT_EQ(code, 3) << output;  // a warning changes no exit code
  EXPECT_NE(output.find("warning: 26 TiB of CapacityPool documents in subscription 10000000-0000-4000-8000-0000000000a1, "
                        "region eastus exceed the default limit \"Regional capacity quota per subscription\" (25 TiB): "
                        "Azure refuses those beyond it with SizeQuotaExceeded; a support request may have raised it"),
            std::string::npos)
      << output;

  // pool2 comes once the quickstart is Ready, so that Azure's numbers are known (pools created in parallel
  // would race for the quota).
  fs::remove(dir_ / "manifests" / "pool2.yaml");
  startOperator();
  ASSERT_NO_FATAL_FAILURE(awaitAllReady());
  addPool2();
  Json pool2;
  ASSERT_NO_FATAL_FAILURE(awaitOthersReadyAndPool2("SizeQuotaExceeded", pool2));
  const std::string azureWords =
      "Creating a new capacityPool of size 22 TiB would exceed the regional quota of 25 TiB. Current usage is 4 TiB. To learn "
      "more about Azure NetApp Files capacity constraints, see Resource limits for Azure NetApp Files "
      "https://docs.microsoft.com/azure/azure-netapp-files/azure-netapp-files-resource-limits";
  EXPECT_EQ(condition(pool2, "Ready").value("message", ""),
            azureWords + ". Resolution: Request a quota increase for \"Regional capacity quota per subscription\" (default 25 "
                         "TiB, adjustable via support request), or free capacity in this region by deleting or shrinking other "
                         "capacity pools");
  const Json azureError = pool2["status"].value("azureError", Json::object());
  EXPECT_EQ(azureError.value("httpStatus", 0), 409) << pool2.dump(2);
  EXPECT_EQ(azureError.value("code", ""), "SizeQuotaExceeded");
  EXPECT_EQ(azureError.value("message", ""), azureWords);
  EXPECT_EQ(seriesValue(operator_->metricsText(), kRefusedSeries), 1.0);
  const std::string line = statusLine("CapacityPool pool2");
  EXPECT_NE(line.find("pool2   False   SizeQuotaExceeded"), std::string::npos) << line;
  EXPECT_NE(line.find(azureWords + ". Resolution: Request a quota increase for"), std::string::npos) << line;
  EXPECT_NE(line.find("capacity pools (HTTP 409 SizeQuotaExceeded, x-ms-request-id "), std::string::npos) << line;
  RecordProperty("statusLine", line);

  // Waits for Azure: looked at again once per resync, never resent in a loop.
  const long putsBefore = pool2Puts();
  ASSERT_NO_FATAL_FAILURE(awaitTwoPasses("CapacityPool"));
  EXPECT_LE(pool2Puts() - putsBefore, 3) << "pool2 was resent more often than once per pass";
  EXPECT_GE(pool2Puts(), 1);

  // The emulator cannot raise a limit at runtime (its world file raises it at start only), so the quota is freed
  // instead: pool1 shrinks to 3 TiB, and the next resync creates pool2 (3 + 22 = 25 TiB).
  const std::string quickstart = readFile(dir_ / "manifests" / "quickstart.yaml");
  const std::string shrunk = std::regex_replace(quickstart, std::regex("sizeTiB: 4"), "sizeTiB: 3");
  ASSERT_NE(shrunk, quickstart);
  std::ofstream(dir_ / "manifests" / "quickstart.yaml") << shrunk;
  ASSERT_NO_FATAL_FAILURE(awaitAllReady(90s, 5));
  EXPECT_EQ(seriesValue(operator_->metricsText(), kRefusedSeries), 0.0);
  EXPECT_EQ(arm_->get(kAccount + "/capacityPools/pool2", kNetAppApi)["properties"].value("size", Json(0)).get<std::int64_t>(),
            22 * 1099511627776LL);
}

// The operator's validation accepts 50 GiB (the newest revision of the limits page); the emulator, like the
// regions still on the older revision, refuses below 100 GiB. The size is the document's to change: parked, and
// the message names the limits.
TEST_F(LimitsE2eTest, AVolumeBelowTheMinimumSizeNeedsADocumentChangeWhileTheOthersConverge) {
  const std::string quickstart = readFile(dir_ / "manifests" / "quickstart.yaml");
  const auto volume = quickstart.find("kind: Volume");
  ASSERT_NE(volume, std::string::npos);
  std::string small = "apiVersion: anf-cmk.io/v1alpha1\n" + quickstart.substr(volume);
  small = std::regex_replace(small, std::regex("name: vol1"), "name: small");
  small = std::regex_replace(small, std::regex("creationToken: vol1"), "creationToken: small");
  small = std::regex_replace(small, std::regex("usageThresholdGiB: 100"), "usageThresholdGiB: 50");
  std::ofstream(dir_ / "manifests" / "small.yaml") << small;
  startOperator();
  Json last;
  const bool reached = await(
      [&] {
        last = operator_->statusJson();
        const Json vol1 = findDocument(last, "Volume", "vol1");
        return isReady(vol1) && condition(findDocument(last, "Volume", "small"), "Ready").value("reason", "") ==
                                      "InvalidValueReceived";
      },
      90s);
  ASSERT_TRUE(reached) << last.dump(2);
  const std::string message = condition(findDocument(last, "Volume", "small"), "Ready").value("message", "");
  EXPECT_TRUE(message.starts_with("An invalid value '53687091200' was received for Volume.UsageThreshold.")) << message;
  EXPECT_NE(message.find(". Resolution: Set the volume size within \"Minimum size of a single regular volume\" (100 GiB)"),
            std::string::npos)
      << message;
}

}  // namespace
}  // namespace anf::testing
