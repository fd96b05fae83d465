#include "reconcilers/key_vault_checks.h"

#include <algorithm>
#include <chrono>
#include <cctype>
#include <regex>

#include "reconcilers/documented_errors.h"

namespace anf::reconcilers {
namespace {

std::string lower(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string stringAt(const Json& j, const Json::json_pointer& p) {
  return j.contains(p) && j.at(p).is_string() ? j.at(p).get<std::string>() : std::string{};
}

std::optional<std::int64_t> intAt(const Json& j, const Json::json_pointer& p) {
  if (!j.contains(p) || !j.at(p).is_number()) return std::nullopt;
  return j.at(p).get<std::int64_t>();
}

bool boolAt(const Json& j, const Json::json_pointer& p, bool fallback) {
  return j.contains(p) && j.at(p).is_boolean() ? j.at(p).get<bool>() : fallback;
}

std::unexpected<controller::ReconcileError> fail(const DocumentedError& e, std::string_view detail = {}) {
  return std::unexpected(toReconcileError(e, detail));
}

}  // namespace

bool isWellFormedVaultUri(const std::string& uri) {
  static const std::regex pattern{R"(^https://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?/?$)"};
  return std::regex_match(uri, pattern);
}

std::string effectiveVaultUri(const std::string& declaredUri, const Json& vault) {
  return declaredUri.empty() ? stringAt(vault, "/properties/vaultUri"_json_pointer) : declaredUri;
}

bool vaultUsesRbac(const Json& vault) {
  return boolAt(vault, "/properties/enableRbacAuthorization"_json_pointer, false);
}

const DocumentedError* keyUnusableCondition(const Json& key, std::int64_t nowUnixSeconds) {
  if (!boolAt(key, "/properties/attributes/enabled"_json_pointer, true)) return &kKeyVaultKeyDisabled;
  if (auto exp = keyExpiry(key); exp && *exp <= nowUnixSeconds) return &kKeyVaultKeyExpired;
  if (auto nbf = intAt(key, "/properties/attributes/nbf"_json_pointer); nbf && *nbf > nowUnixSeconds) return &kKeyVaultKeyNotActive;
  return nullptr;
}

std::int64_t nowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::optional<std::int64_t> keyExpiry(const Json& key) { return intAt(key, "/properties/attributes/exp"_json_pointer); }

std::expected<void, controller::ReconcileError> checkKeyVault(const KeyVaultCheckInput& input) {
  if (!input.vault || !input.key) return fail(kKeyVaultKeyNotFound);
  const Json& vault = *input.vault;
  const Json& key = *input.key;

  const std::string kty = stringAt(key, "/properties/kty"_json_pointer);
  if (kty != "RSA" && kty != "RSA-HSM") return fail(kKeyVaultKeyNotRsa);
  if (const DocumentedError* unusable = keyUnusableCondition(key, input.nowUnixSeconds)) return fail(*unusable);

  const std::string vaultUri = stringAt(vault, "/properties/vaultUri"_json_pointer);
  const std::string uri = input.declaredUri.empty() ? vaultUri : input.declaredUri;
  if (!isWellFormedVaultUri(uri) || (!vaultUri.empty() && !sameVaultUri(uri, vaultUri))) return fail(kKeyVaultUriInvalid);

  if (!boolAt(vault, "/properties/enableSoftDelete"_json_pointer, true) ||
      !boolAt(vault, "/properties/enablePurgeProtection"_json_pointer, false))
    return fail(kKeyVaultNotRecoverable);

  auto region = [](const std::string& s) {
    std::string out;
    for (char c : s)
      if (c != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  if (region(stringAt(vault, "/location"_json_pointer)) != region(input.accountLocation))
    return fail(kKeyVaultRegionMismatch);

  const bool publicDisabled = lower(stringAt(vault, "/properties/publicNetworkAccess"_json_pointer)) == "disabled";
  const bool denyByDefault = lower(stringAt(vault, "/properties/networkAcls/defaultAction"_json_pointer)) == "deny";
  const bool bypass = lower(stringAt(vault, "/properties/networkAcls/bypass"_json_pointer)).find("azureservices") !=
                      std::string::npos;
  if ((publicDisabled || denyByDefault) && !bypass) return fail(kKeyVaultPublicAccessBlocked);

  if (!isCmkSupportedRegion(input.accountLocation)) return fail(kRegionNotSupported, input.accountLocation);
  return {};
}

}  // namespace anf::reconcilers
