#pragma once
// The local Azure, in process: ARM, Entra and Graph on one loopback HTTP(S) server. `anf-cmk-operator
// emulator` and `run --emulator` start it through this header; tests may too. See SPEC §7 and issue 3.
//
//   auto emulator = anf::emulator::Emulator::start({.stateFile = dir / "state.json"});
//   if (!emulator) fail(emulator.error());
//   std::string arm = (*emulator)->endpoints().resourceManager;   // "https://127.0.0.1:41234"
//
// Which principal the IMDS endpoint (GET /metadata/identity/oauth2/token) issues for: the user-assigned
// identity named by client_id, object_id or msi_res_id when one of them is given (it must exist in the world),
// otherwise the provider tenant's (the first tenant's) `admin` principal.
#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "emulator/provider.h"

namespace anf::emulator {

/// A token bucket: `bucket` requests at most, refilled at `perSecond`.
struct BucketLimit {
  double bucket = 0;
  double perSecond = 0;
};

/// Per-subscription ARM throttling. Defaults are Azure's (reference/azure-api.md §3).
struct ThrottleLimits {
  BucketLimit reads{250, 25};
  BucketLimit writes{200, 10};
  BucketLimit deletes{200, 10};
};

struct Options {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  std::string worldFile;               // YAML world; empty: the default world of the brief
  std::string stateFile;               // persisted state; loaded at start when it exists
  std::string caOut;                   // CA PEM; empty: beside the state file, else a temp dir
  bool insecureHttp = false;           // plain HTTP instead of HTTPS
  std::chrono::seconds lroDuration{1};
  std::chrono::seconds featureRegistrationDelay{2};
  /// Lifetime of the access tokens the token endpoint issues (Entra's is about an hour); a short one makes
  /// tokens expire in the middle of long-running operations.
  std::chrono::seconds tokenLifetime{3599};
  /// The emulator's clock (token nbf/exp, timestamps, operation progress) runs this far from the host's:
  /// clock skew between the operator and Azure. Negative: behind.
  std::chrono::seconds clockOffset{0};
  /// Per operation kind (operationKinds() in provider.h), over the world file's operationSeconds.
  std::map<std::string, std::chrono::milliseconds> operationDurations;
  bool serialVolumeCreation = false;  // World::serialVolumeCreation
  /// Seeds the draws of the fault rules (PUT /_emulator/faults): the same seed gives the same sequence of draws,
  /// so a soak or kill run whose requests come in the same order meets the same faults; unset: std::random_device.
  std::optional<std::uint64_t> faultSeed;
  ThrottleLimits throttle;
  int threads = 2;
  std::string logLevel = "info";  // of the stderr log: trace, debug, info, warn, error, off
};

/// "250:25" (bucket:perSecond) -> BucketLimit, for the --throttle-* flags.
std::expected<BucketLimit, std::string> parseBucketLimit(const std::string& text);

/// {kind: seconds} (the world file's operationSeconds) -> durations; every kind must be one of operationKinds().
std::expected<std::map<std::string, std::chrono::milliseconds>, std::string> operationDurationsOf(const nlohmann::json& seconds);
/// "volume=240,pool=60,transitionToCmk=120" (--operation-seconds) -> durations.
std::expected<std::map<std::string, std::chrono::milliseconds>, std::string> parseOperationDurations(const std::string& text);

/// What clients need to reach the emulator: the start-up line of `anf-cmk-operator emulator`.
struct Endpoints {
  std::string resourceManager;  // base URL, no trailing slash
  std::string authority;        // Entra authority host: {authority}/{tenantId}/oauth2/v2.0/token
  std::string graph;            // {graph}/v1.0/...
  std::string caFile;           // empty with insecureHttp
  std::string workloadIdentityIssuer;  // issuer of POST /_emulator/workload-identity-token JWTs
  std::vector<Tenant> tenants;

  /// {"resourceManager","authority","graph","caFile","workloadIdentityIssuer","tenants":[{"tenantId","name",
  ///  "subscriptions","principals":[{"name","clientId","clientSecret","objectId"}]}]}
  nlohmann::json toJson() const;
};

class Emulator {
 public:
  virtual ~Emulator() = default;
  /// Builds (or loads) the world, generates the CA and server certificate, binds, and serves on a small thread
  /// pool. Returns once requests are being accepted.
  static std::expected<std::unique_ptr<Emulator>, std::string> start(Options options);
  virtual Endpoints endpoints() const = 0;
  /// Stops accepting, closes connections and joins the threads (also done by the destructor).
  virtual void stop() = 0;
};
using EmulatorPtr = std::unique_ptr<Emulator>;

}  // namespace anf::emulator
