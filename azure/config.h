#pragma once
// Plain configuration of the Azure client (SPEC §3 `azure:` and `controller.armRateLimit`). The
// controller's config loader fills it; nothing here reads files or the environment except where
// resolveEndpoints()/credentialFromEnvironment() say so.
#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anf::azure {

enum class Cloud { AzurePublic, AzureUSGovernment, AzureChina, Custom };

/// "AzurePublic" etc.; parseCloud is exact but case-insensitive.
std::string_view cloudName(Cloud cloud);
std::optional<Cloud> parseCloud(std::string_view name);

/// Where Azure lives. URLs without a trailing slash except `authority` (which ends in '/').
struct Endpoints {
  std::string resourceManager;  // https://management.azure.com
  std::string authority;        // https://login.microsoftonline.com/
  std::string graph;            // https://graph.microsoft.com
  /// Token audiences; empty means "the public cloud's" (what the emulator accepts for Custom).
  std::string resourceManagerAudience;  // https://management.azure.com
  std::string graphAudience;            // https://graph.microsoft.com
};

/// The endpoints of a cloud; for Custom, `custom` completed with default audiences. Fails when Custom
/// lacks resourceManager, authority or graph.
std::expected<Endpoints, std::string> resolveEndpoints(Cloud cloud, const Endpoints& custom = {});

enum class CredentialKind { ClientSecret, WorkloadIdentity, ManagedIdentity };
std::string_view credentialKindName(CredentialKind kind);

/// One identity the operator acts as, in one tenant. Several may be configured (provider, customer).
struct CredentialConfig {
  std::string name;      // referenced by documents' spec.azure.tenant ("provider")
  std::string tenantId;  // Entra tenant (not used by ManagedIdentity, which is bound to its host)
  CredentialKind kind = CredentialKind::ClientSecret;
  std::string clientId;  // app/client id; for ManagedIdentity empty = system-assigned

  // ClientSecret: exactly one of these. The secret is read at each token request, never stored in config.
  std::string secretFile;  // path of a file holding the secret (trailing whitespace ignored)
  std::string secretEnv;   // name of an environment variable holding the secret

  // WorkloadIdentity: the projected service account token, re-read at every token request (it rotates).
  std::string tokenFile;
  std::string authorityHost;  // overrides Endpoints::authority for this credential (AZURE_AUTHORITY_HOST)

  // ManagedIdentity: App Service style endpoint; empty = IMDS (AzureConfig::imdsEndpoint).
  std::string identityEndpoint;  // IDENTITY_ENDPOINT
  std::string identityHeader;    // IDENTITY_HEADER (a secret: never logged)
};

/// The default credential from the standard Azure Workload Identity environment (AZURE_CLIENT_ID,
/// AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST), or nullopt when incomplete.
std::optional<CredentialConfig> workloadIdentityFromEnvironment(std::string name = "default");
/// Fills identityEndpoint/identityHeader of a ManagedIdentity credential from IDENTITY_ENDPOINT and
/// IDENTITY_HEADER when both are set and the config has neither.
void applyManagedIdentityEnvironment(CredentialConfig& credential);

/// Client-side token buckets per subscription that track Azure's (reads 250 + 25/s, writes 200 + 10/s):
/// by default the operator spends the subscription's whole budget at Azure's own rate, without a 429.
/// Each bucket is Azure's less a headroom of a few seconds of refill (50 reads, 30 writes), so requests that
/// reach Azure up to two seconds after their slot (a busy connection, TLS) still find a token, and Azure's
/// remaining count stays above lowRemaining while the operator alone spends it. To leave budget to the
/// customer's other tools, lower the rates (config controller.armRateLimit): a bucket then shrinks in the
/// same proportion (writesPerSecond 5 keeps half of Azure's write bucket and refill for the others), and the
/// x-ms-ratelimit-remaining-subscription-* pause below still yields to whoever else spends it.
struct RateLimits {
  double readsPerSecond = 25;
  double writesPerSecond = 10;
  double readBurst = 200;   // at Azure's rate; scaled by readsPerSecond / 25 below it
  double writeBurst = 170;  // at Azure's rate; scaled by writesPerSecond / 10 below it
  /// When x-ms-ratelimit-remaining-subscription-{reads,writes} falls to this (others spend the budget too),
  /// pause that bucket until Azure's bucket has refilled above it (at Azure's refill rate).
  int lowRemaining = 20;
  /// Requests per subscription on the wire at once (see in_flight.h).
  int maxInFlight = 16;
};

/// Bounds of the client's own retries (the engine requeues beyond them).
struct RetryPolicy {
  int maxAttempts = 6;                                   // including the first
  std::chrono::milliseconds baseDelay{250};              // full jitter: uniform(0, min(maxDelay, base * 2^n))
  std::chrono::milliseconds maxDelay{8000};
  std::chrono::milliseconds maxTotal{60000};             // no retry is started that would end after this
  std::chrono::milliseconds grantPropagation{std::chrono::minutes(10)};  // AuthorizationFailed stays retryable
  std::chrono::milliseconds defaultPollInterval{10000};  // LRO poll without Retry-After (ARM says 60 s; we are eager)
};

struct AzureConfig {
  Cloud cloud = Cloud::AzurePublic;
  Endpoints endpoints;  // only for Custom (the emulator prints them)
  std::string caFile;   // extra CA added to the system trust store
  /// Turns TLS verification off. Only for experiments: the client logs a warning at every start.
  bool insecureSkipTlsVerify = false;
  /// IMDS base URL (tests point it at the emulator).
  std::string imdsEndpoint = "http://169.254.169.254";
  std::vector<CredentialConfig> credentials;  // the first is the default
  RateLimits rateLimits;
  RetryPolicy retry;
  std::chrono::milliseconds requestTimeout{30000};
};

}  // namespace anf::azure
