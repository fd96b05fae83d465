#include "controller/arm_id.h"

#include <algorithm>
#include <cctype>

namespace anf::controller {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

std::vector<std::string_view> splitSegments(std::string_view id) {
  std::vector<std::string_view> out;
  while (!id.empty()) {
    auto slash = id.find('/');
    out.push_back(id.substr(0, slash));
    if (slash == std::string_view::npos) break;
    id.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

std::string ArmId::resourceType() const {
  std::string out = providerNamespace;
  for (const auto& t : types) out += "/" + t;
  return out;
}

std::optional<ArmId> ArmId::parent() const {
  if (types.size() < 2) return std::nullopt;
  ArmId p = *this;
  p.types.pop_back();
  p.names.pop_back();
  return p;
}

std::string ArmId::str() const {
  std::string out = "/subscriptions/" + subscriptionId + "/resourceGroups/" + resourceGroup + "/providers/" + providerNamespace;
  for (std::size_t i = 0; i < types.size(); ++i) out += "/" + types[i] + "/" + names[i];
  return out;
}

bool ArmId::isType(std::string_view type) const { return iequals(resourceType(), type); }

std::optional<ArmId> parseArmId(std::string_view id) {
  if (!id.starts_with('/')) return std::nullopt;
  auto s = splitSegments(id.substr(1));
  // subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name} at least: 8 segments, even count.
  if (s.size() < 8 || s.size() % 2 != 0) return std::nullopt;
  if (std::ranges::any_of(s, [](std::string_view seg) { return seg.empty(); })) return std::nullopt;
  if (!iequals(s[0], "subscriptions") || !iequals(s[2], "resourceGroups") || !iequals(s[4], "providers")) return std::nullopt;
  if (s[5].find('.') == std::string_view::npos) return std::nullopt;  // "Microsoft.Network"
  ArmId out{.subscriptionId = std::string(s[1]), .resourceGroup = std::string(s[3]), .providerNamespace = std::string(s[5])};
  for (std::size_t i = 6; i + 1 < s.size(); i += 2) {
    out.types.emplace_back(s[i]);
    out.names.emplace_back(s[i + 1]);
  }
  return out;
}

bool sameArmId(std::string_view a, std::string_view b) { return iequals(a, b); }

std::optional<std::string> virtualNetworkOfSubnet(std::string_view subnetId) {
  auto id = parseArmId(subnetId);
  if (!id || !id->isType("Microsoft.Network/virtualNetworks/subnets")) return std::nullopt;
  return id->parent()->str();
}

}  // namespace anf::controller
