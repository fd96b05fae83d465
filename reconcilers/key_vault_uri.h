#pragma once
// Key vault URIs as Azure compares them, for every reconciler (the account's checks, the key vault change).
#include <string>

namespace anf::reconcilers {

/// Case-insensitive, trailing slashes and the default port (:443) ignored:
/// "https://KV.vault.azure.net:443/" is "https://kv.vault.azure.net".
bool sameVaultUri(const std::string& a, const std::string& b);

}  // namespace anf::reconcilers
