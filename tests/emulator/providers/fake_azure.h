#pragma once
// A test double of the emulator core for the resource providers: routes ARM calls to the seven
// providers, records long-running operations and runs them when told (settle), and seeds the
// default world (BRIEF names) through the providers' own PUTs.
#include <optional>
#include <string>
#include <vector>

#include "emulator/provider.h"

namespace anf::emulator::testing {

inline constexpr const char* kProviderTenant = "10000000-0000-4000-8000-000000000001";
inline constexpr const char* kProviderSub = "10000000-0000-4000-8000-0000000000a1";
inline constexpr const char* kProviderAdmin = "10000000-0000-4000-8000-00000000d001";
inline constexpr const char* kCustomerTenant = "20000000-0000-4000-8000-000000000002";
inline constexpr const char* kCustomerSub = "20000000-0000-4000-8000-0000000000b1";
inline constexpr const char* kCustomerAdmin = "20000000-0000-4000-8000-00000000d002";
inline constexpr const char* kCryptoUser = "12338af0-0e69-4776-bea7-57ae8d297424";

/// "/subscriptions/{provider sub}/resourceGroups/anf-rg" + rest
std::string rg(const std::string& rest = "");
/// "/subscriptions/{customer sub}/resourceGroups/customer-rg" + rest
std::string customerRg(const std::string& rest = "");
std::string account(const std::string& name = "acct");
std::string vault(const std::string& name = "anfkv-provider");
std::string subnet(const std::string& name, const std::string& vnet = "anf-vnet");

/// The fake core. Every call runs as the named tenant's admin.
class FakeAzure : public Context {
 public:
  explicit FakeAzure(bool seedDefaultWorld = true);

  World& world() override { return world_; }
  Response startOperation(LongRunningOperation&& operation) override;
  bool operationInProgress(const std::string& resourceId) override;

  /// One ARM call; `path` without query; query/headers optional.
  Response call(const std::string& method, const std::string& path, const Json& body = nullptr, bool asCustomer = false,
                const std::map<std::string, std::string>& headers = {}, const std::map<std::string, std::string>& query = {});
  Response get(const std::string& path, bool asCustomer = false) { return call("GET", path, nullptr, asCustomer); }
  /// Runs every pending operation; returns the error Json of each one that failed.
  std::vector<Json> settle();
  /// call() then settle(); fails the test when the call was refused or an operation failed.
  Json ok(const std::string& method, const std::string& path, const Json& body = nullptr, bool asCustomer = false);
  /// The resource as GET shows it (fails the test when missing).
  Json show(const std::string& path, bool asCustomer = false);
  std::size_t pending() const { return operations_.size(); }

  // Building blocks of the documented flows.
  /// PMK account (optionally with a system-assigned identity).
  Json createAccount(const std::string& name, bool systemIdentity = false);
  /// A user-assigned identity; returns its GET body.
  Json createIdentity(const std::string& name, bool asCustomer = false);
  void grantAccessPolicy(const std::string& vaultId, const std::string& tenantId, const std::string& objectId,
                         const Json& keys = Json::array({"get", "encrypt", "decrypt"}));
  void assignRole(const std::string& scope, const std::string& roleGuid, const std::string& principalId, bool asCustomer = false);
  /// An approved (automatic) private endpoint to a vault in subnet `endpoints` of anf-vnet.
  std::string createEndpoint(const std::string& name, const std::string& vaultId, const std::string& subnetId = "");
  /// Pool "pool1" under the account (once) and a volume; returns the volume id. Does not settle the volume.
  Response createVolume(const std::string& accountName, const std::string& volumeName, const Json& extraProperties);
  /// Registers a feature and advances the clock past the registration delay.
  void registerFeature(const std::string& feature);
  /// Graph objects of the cross-tenant chain, stored as the core's Graph stores them.
  std::string createApplication(const std::string& tenantId, const std::string& displayName);  // returns appId
  void addFederatedCredential(const std::string& tenantId, const std::string& appId, const std::string& subject, const std::string& issuer);
  std::string createServicePrincipal(const std::string& tenantId, const std::string& appId);  // returns objectId

 private:
  World world_;
  std::vector<ResourceProviderPtr> providers_;
  std::vector<LongRunningOperation> operations_;
};

}  // namespace anf::emulator::testing
