#include "azure/resource_id.h"

#include <algorithm>
#include <cctype>

namespace anf::azure {
namespace {

std::vector<std::string_view> splitSegments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

std::expected<ResourceId, std::string> ResourceId::parse(std::string_view text) {
  auto fail = [&](const std::string& why) {
    return std::unexpected("invalid resource id '" + std::string(text) + "': " + why);
  };
  if (text.empty() || text.front() != '/') return fail("must start with '/'");
  if (text.size() > 1 && text.back() == '/') text.remove_suffix(1);
  if (text.size() <= 1) return fail("empty");
  auto seg = splitSegments(text);
  for (std::size_t i = 0; i < seg.size(); ++i)
    if (seg[i].empty()) return fail("empty segment " + std::to_string(i + 1));

  ResourceId id;
  std::size_t i = 0;
  if (equalsIgnoreCase(seg[0], "subscriptions")) {
    if (seg.size() < 2) return fail("missing subscription id after 'subscriptions'");
    id.subscription_ = seg[1];
    i = 2;
    if (i < seg.size() && equalsIgnoreCase(seg[i], "resourceGroups")) {
      if (i + 1 >= seg.size()) return fail("missing resource group name after 'resourceGroups'");
      id.resourceGroup_ = seg[i + 1];
      i += 2;
    }
  }
  while (i < seg.size()) {
    if (!equalsIgnoreCase(seg[i], "providers"))
      return fail("segment " + std::to_string(i + 1) + " ('" + std::string(seg[i]) + "'): expected 'providers'");
    if (i + 1 >= seg.size()) return fail("missing namespace after 'providers'");
    Block block{std::string(seg[i + 1]), {}};
    i += 2;
    // Pairs continue until a 'providers' keyword that starts a new block (only after a full pair).
    while (i < seg.size() && !(equalsIgnoreCase(seg[i], "providers") && !block.pairs.empty())) {
      if (i + 1 >= seg.size())
        return fail("type '" + std::string(seg[i]) + "' has no name (a collection path is not a resource id)");
      block.pairs.push_back({std::string(seg[i]), std::string(seg[i + 1])});
      i += 2;
    }
    id.blocks_.push_back(std::move(block));
  }
  if (id.subscription_.empty() && id.blocks_.empty()) return fail("expected 'subscriptions' or 'providers'");
  return id;
}

ResourceId ResourceId::subscription(std::string subscriptionId) {
  ResourceId id;
  id.subscription_ = std::move(subscriptionId);
  return id;
}

ResourceId ResourceId::resourceGroup(std::string subscriptionId, std::string resourceGroup) {
  ResourceId id = subscription(std::move(subscriptionId));
  id.resourceGroup_ = std::move(resourceGroup);
  return id;
}

ResourceId ResourceId::inResourceGroup(std::string subscriptionId, std::string resourceGroup, std::string_view fullType,
                                       std::string name) {
  return ResourceId::resourceGroup(std::move(subscriptionId), std::move(resourceGroup)).child(fullType, std::move(name));
}

std::string ResourceId::providerNamespace() const {
  if (blocks_.empty() || blocks_.back().pairs.empty()) return "Microsoft.Resources";
  return blocks_.back().ns;
}

std::vector<std::string> ResourceId::types() const {
  std::vector<std::string> out;
  if (!blocks_.empty())
    for (const auto& p : blocks_.back().pairs) out.push_back(p.type);
  return out;
}

std::vector<std::string> ResourceId::names() const {
  std::vector<std::string> out;
  if (!blocks_.empty())
    for (const auto& p : blocks_.back().pairs) out.push_back(p.name);
  return out;
}

std::string ResourceId::resourceType() const {
  if (!blocks_.empty()) {
    const auto& last = blocks_.back();
    if (last.pairs.empty()) return "Microsoft.Resources/providers";
    std::string out = last.ns;
    for (const auto& p : last.pairs) out += "/" + p.type;
    return out;
  }
  return resourceGroup_.empty() ? "Microsoft.Resources/subscriptions" : "Microsoft.Resources/resourceGroups";
}

std::string ResourceId::name() const {
  if (!blocks_.empty()) return blocks_.back().pairs.empty() ? blocks_.back().ns : blocks_.back().pairs.back().name;
  return resourceGroup_.empty() ? subscription_ : resourceGroup_;
}

std::optional<ResourceId> ResourceId::parent() const {
  ResourceId p = *this;
  if (!p.blocks_.empty()) {
    auto& last = p.blocks_.back();
    if (last.pairs.size() > 1) {
      last.pairs.pop_back();
    } else {
      p.blocks_.pop_back();
    }
    return p;
  }
  if (!p.resourceGroup_.empty()) {
    p.resourceGroup_.clear();
    return p;
  }
  return std::nullopt;
}

std::optional<ResourceId> ResourceId::scope() const {
  if (blocks_.size() < 2) return std::nullopt;
  ResourceId s = *this;
  s.blocks_.pop_back();
  return s;
}

ResourceId ResourceId::child(std::string_view type, std::string name) const {
  ResourceId c = *this;
  auto slash = type.find('/');
  if (slash != std::string_view::npos) {
    Block block{std::string(type.substr(0, slash)), {}};
    std::string_view rest = type.substr(slash + 1);
    // "Microsoft.Network/virtualNetworks/subnets" is not a valid single child; take the last type.
    if (auto last = rest.rfind('/'); last != std::string_view::npos) rest = rest.substr(last + 1);
    block.pairs.push_back({std::string(rest), std::move(name)});
    c.blocks_.push_back(std::move(block));
  } else if (!c.blocks_.empty() && !c.blocks_.back().pairs.empty()) {
    c.blocks_.back().pairs.push_back({std::string(type), std::move(name)});
  } else {
    // A plain type under a subscription or resource group: Microsoft.Resources semantics are not
    // meaningful here; record it under Microsoft.Resources so str() still shows the path.
    c.blocks_.push_back({"Microsoft.Resources", {{std::string(type), std::move(name)}}});
  }
  return c;
}

std::string ResourceId::str() const {
  std::string out;
  if (!subscription_.empty()) out += "/subscriptions/" + subscription_;
  if (!resourceGroup_.empty()) out += "/resourceGroups/" + resourceGroup_;
  for (const auto& block : blocks_) {
    out += "/providers/" + block.ns;
    for (const auto& p : block.pairs) out += "/" + p.type + "/" + p.name;
  }
  return out;
}

std::string ResourceId::key() const { return lower(str()); }

bool operator==(const ResourceId& a, const ResourceId& b) { return equalsIgnoreCase(a.str(), b.str()); }

bool isResourceType(std::string_view id, std::string_view resourceType) {
  return !checkResourceType(id, resourceType).has_value();
}

std::optional<std::string> checkResourceType(std::string_view id, std::string_view resourceType) {
  auto parsed = ResourceId::parse(id);
  if (!parsed) return parsed.error();
  if (equalsIgnoreCase(parsed->resourceType(), resourceType)) return std::nullopt;
  return "expected a " + std::string(resourceType) + " id, got a " + parsed->resourceType() + " id: '" +
         std::string(id) + "'";
}

std::string virtualNetworkOf(std::string_view subnetId) {
  if (!isResourceType(subnetId, "Microsoft.Network/virtualNetworks/subnets")) return "";
  return ResourceId::parse(subnetId)->parent()->str();
}

}  // namespace anf::azure
