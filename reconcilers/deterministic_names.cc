#include "reconcilers/deterministic_names.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace anf::reconcilers {
namespace {

std::array<unsigned char, 16> parseUuid(std::string_view text) {
  std::array<unsigned char, 16> bytes{};
  std::size_t n = 0;
  for (std::size_t i = 0; i + 1 < text.size() && n < bytes.size();) {
    if (text[i] == '-') { ++i; continue; }
    bytes[n++] = static_cast<unsigned char>(std::stoi(std::string{text.substr(i, 2)}, nullptr, 16));
    i += 2;
  }
  return bytes;
}

std::string lower(std::string_view s) {
  std::string out{s};
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string uuidV5(std::string_view namespaceUuid, std::string_view name) {
  const auto ns = parseUuid(namespaceUuid);
  std::string input(reinterpret_cast<const char*>(ns.data()), ns.size());
  input += name;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", digest[0],
                digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7], digest[8], digest[9],
                digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]);
  return out;
}

std::string roleAssignmentName(std::string_view scope, std::string_view principalId, std::string_view roleDefinitionId) {
  // The role is named by its GUID alone: Azure writes the same role id in tenant and subscription forms.
  const std::string_view roleGuid = roleDefinitionId.substr(roleDefinitionId.find_last_of('/') + 1);
  return uuidV5(kOperatorNamespace,
                "roleAssignment\n" + lower(scope) + "\n" + lower(principalId) + "\n" + lower(roleGuid));
}

std::string roleDefinitionName(std::string_view scope, std::string_view roleName) {
  return uuidV5(kOperatorNamespace, "roleDefinition\n" + lower(scope) + "\n" + std::string{roleName});
}

}  // namespace anf::reconcilers
