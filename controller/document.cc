#include "controller/document.h"

#include <array>

namespace anf::controller {

namespace {
constexpr std::array<std::pair<Kind, std::string_view>, 6> kKinds = {{
    {Kind::UserAssignedIdentity, "UserAssignedIdentity"},
    {Kind::CrossTenantApplication, "CrossTenantApplication"},
    {Kind::PrivateEndpoint, "PrivateEndpoint"},
    {Kind::NetAppAccount, "NetAppAccount"},
    {Kind::CapacityPool, "CapacityPool"},
    {Kind::Volume, "Volume"},
}};
}  // namespace

std::string_view kindName(Kind kind) {
  for (const auto& [k, name] : kKinds)
    if (k == kind) return name;
  return "Unknown";
}

std::optional<Kind> parseKind(std::string_view name) {
  for (const auto& [k, n] : kKinds)
    if (n == name) return k;
  return std::nullopt;
}

const std::vector<Kind>& allKinds() {
  static const std::vector<Kind> kinds = [] {
    std::vector<Kind> out;
    for (const auto& [k, name] : kKinds) out.push_back(k);
    return out;
  }();
  return kinds;
}

std::string SourceLocation::str() const {
  if (line <= 0) return file;  // a whole file or path (e.g. one that does not exist)
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string DocumentKey::str() const { return std::string(kindName(kind)) + "/" + name; }

std::string ManifestError::str() const {
  std::string out = location.str() + ": ";
  if (!document.empty()) out += document + ": ";
  if (!fieldPath.empty()) out += fieldPath + ": ";
  return out + message;
}

}  // namespace anf::controller
