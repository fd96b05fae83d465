// The non-virtual parts of provider.h: clock, error envelope, ARM path ids, and the world store.
#include <algorithm>
#include <cctype>
#include <ctime>
#include <random>

#include "emulator/provider.h"

namespace anf::emulator {
namespace {

std::string lower(std::string text) {
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::mt19937_64& randomEngine() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

}  // namespace

std::int64_t Clock::unixMilliseconds() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch()).count();
}

std::int64_t Clock::unixSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
}

std::string Clock::iso8601() const { return anf::emulator::iso8601(now()); }

std::string iso8601(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  auto ticks = std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count() % 1'000'000'000 / 100;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[48];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%07lldZ", static_cast<long long>(ticks));
  return std::string(buffer) + fraction;
}

Response Response::error(int status, const std::string& code, const std::string& message, const std::string& target) {
  Json error{{"code", code}, {"message", message}};
  if (!target.empty()) error["target"] = target;
  return json(status, Json{{"error", std::move(error)}});
}

std::string ArmPath::resourceId() const {
  std::string id;
  if (!scope.empty()) {
    id = scope;
  } else if (!subscriptionId.empty()) {
    id = "/subscriptions/" + subscriptionId;
    if (!resourceGroup.empty()) id += "/resourceGroups/" + resourceGroup;
  }
  if (names.empty() && scope.empty()) return id;
  // Resource groups (Microsoft.Resources) are addressed without a "/providers/" segment.
  bool resourceGroupPath = lower(providerNamespace) == "microsoft.resources" && !types.empty() && lower(types[0]) == "resourcegroups";
  if (!providerNamespace.empty() && !resourceGroupPath) id += "/providers/" + providerNamespace;
  for (std::size_t i = 0; i < names.size(); ++i) {
    id += "/" + (i == 0 && resourceGroupPath ? std::string("resourceGroups") : types[i]) + "/" + names[i];
  }
  return id;
}

std::string ArmPath::resourceType() const {
  std::string type = providerNamespace;
  for (const auto& segment : types) type += "/" + segment;
  return type;
}

Json* World::find(const std::string& id) {
  auto it = resources_.find(lower(id));
  return it == resources_.end() ? nullptr : &it->second;
}

Json& World::put(Json resource) {
  std::string key = lower(resource.value("id", std::string{}));
  std::string type = lower(resource.value("type", std::string{}));
  if (auto old = resources_.find(key); old != resources_.end() && lower(old->second.value("type", std::string{})) != type) {
    std::erase(byType_[lower(old->second.value("type", std::string{}))], key);
    byType_[type].push_back(key);
  }
  auto [it, inserted] = resources_.insert_or_assign(key, std::move(resource));
  if (inserted) {
    order_.push_back(key);
    byType_[type].push_back(key);
  }
  return it->second;
}

bool World::erase(const std::string& id) {
  std::string key = lower(id);
  auto found = resources_.find(key);
  if (found == resources_.end()) return false;
  std::erase(byType_[lower(found->second.value("type", std::string{}))], key);
  resources_.erase(found);
  std::erase(order_, key);
  return true;
}

std::vector<Json*> World::children(const std::string& parentId, const std::string& typeSegment) {
  // A child's id is "{parent}/{type}/{name}", or "{parent}/providers/{type}/{name}" when typeSegment
  // names the namespace too ("Microsoft.Network/virtualNetworks" under a resource group).
  std::string parent = lower(parentId);
  while (!parent.empty() && parent.back() == '/') parent.pop_back();
  std::string type = lower(typeSegment);
  std::string prefix = parent + (type.find('/') == std::string::npos ? "/" : "/providers/") + type + "/";
  std::vector<Json*> found;
  for (const auto& key : order_) {
    std::string rest;
    if (key.starts_with(prefix)) {
      rest = key.substr(prefix.size());
    } else if (type.find('/') == std::string::npos && key.starts_with(parent + "/providers/")) {
      std::string tail = key.substr(parent.size() + std::string("/providers/").size());
      auto slash = tail.find('/');
      if (slash == std::string::npos || !tail.substr(slash + 1).starts_with(type + "/")) continue;
      rest = tail.substr(slash + 1 + type.size() + 1);
    } else {
      continue;
    }
    if (!rest.empty() && rest.find('/') == std::string::npos) found.push_back(&resources_.at(key));
  }
  return found;
}

std::vector<Json*> World::withPrefix(const std::string& prefix) {
  std::string wanted = lower(prefix);
  std::vector<Json*> found;
  for (const auto& key : order_) {
    if (key.starts_with(wanted)) found.push_back(&resources_.at(key));
  }
  return found;
}

std::vector<Json*> World::ofType(std::string_view type, const std::string& prefix) {
  std::string wanted = lower(prefix);
  std::vector<Json*> found;
  auto keys = byType_.find(lower(std::string(type)));
  if (keys == byType_.end()) return found;
  for (const auto& key : keys->second) {
    if (key.starts_with(wanted)) found.push_back(&resources_.at(key));
  }
  return found;
}

const Tenant* World::tenantOfSubscription(const std::string& subscriptionId) const {
  for (const auto& tenant : tenants) {
    for (const auto& subscription : tenant.subscriptions) {
      if (lower(subscription) == lower(subscriptionId)) return &tenant;
    }
  }
  return nullptr;
}

const Tenant* World::tenantById(const std::string& tenantId) const {
  for (const auto& tenant : tenants) {
    if (lower(tenant.tenantId) == lower(tenantId)) return &tenant;
  }
  return nullptr;
}

std::string World::newGuid() {
  std::uniform_int_distribution<int> nibble(0, 15);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string guid = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  for (char& c : guid) {
    if (c == 'x') c = kHex[nibble(randomEngine())];
    if (c == 'y') c = kHex[8 + nibble(randomEngine()) % 4];
  }
  return guid;
}

std::string World::newEtag() {
  ++counter_;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "W/\"%016llx%08llx\"", static_cast<unsigned long long>(randomEngine()()),
                static_cast<unsigned long long>(counter_));
  return buffer;
}

const std::vector<std::pair<std::string, double>>& operationKinds() {
  // Azure's order of magnitude: an account in seconds, pools and private endpoints in about a minute, the key
  // vault operations in minutes, a volume in several minutes.
  static const std::vector<std::pair<std::string, double>> kinds{
      {"account", 1},         {"renewCredentials", 1}, {"pool", 1.5},   {"privateEndpoint", 1.5},
      {"changeKeyVault", 2},  {"transitionToCmk", 2},  {"volume", 3},   {"roleAssignmentPropagation", 0}};
  return kinds;
}

std::chrono::milliseconds World::durationOf(const std::string& kind) const {
  if (auto set = operationDurations.find(kind); set != operationDurations.end()) return set->second;
  double share = 1;
  for (const auto& [name, proportion] : operationKinds()) share = name == kind ? proportion : share;
  return std::chrono::milliseconds(static_cast<std::int64_t>(share * 1000.0 * static_cast<double>(lroDuration.count())));
}

Json World::durationsJson() const {
  Json durations = Json::object();
  for (const auto& [kind, duration] : operationDurations) durations[kind] = duration.count();
  return durations;
}

Json World::toJson() const {
  Json tenantList = Json::array();
  for (const auto& tenant : tenants) {
    Json principals = Json::array();
    for (const auto& p : tenant.principals) {
      principals.push_back({{"name", p.name}, {"clientId", p.clientId}, {"clientSecret", p.clientSecret}, {"objectId", p.objectId}});
    }
    tenantList.push_back({{"tenantId", tenant.tenantId}, {"name", tenant.name}, {"subscriptions", tenant.subscriptions},
                          {"principals", principals}});
  }
  Json resources = Json::array();
  for (const auto& key : order_) resources.push_back(resources_.at(key));
  return {{"clockOffsetSeconds", clock.offset().count()}, {"counter", counter_}, {"tenants", tenantList}, {"resources", resources},
          {"subscriptionLimits", subscriptionLimits}, {"operationMilliseconds", durationsJson()},
          {"serialVolumeCreation", serialVolumeCreation}};
}

void World::loadJson(const Json& state) {
  tenants.clear();
  resources_.clear();
  order_.clear();
  byType_.clear();
  for (const auto& t : state.value("tenants", Json::array())) {
    Tenant tenant{t.value("tenantId", ""), t.value("name", ""), t.value("subscriptions", std::vector<std::string>{}), {}};
    for (const auto& p : t.value("principals", Json::array())) {
      tenant.principals.push_back({p.value("name", ""), p.value("clientId", ""), p.value("clientSecret", ""), p.value("objectId", "")});
    }
    tenants.push_back(std::move(tenant));
  }
  for (const auto& resource : state.value("resources", Json::array())) put(resource);
  subscriptionLimits = state.value("subscriptionLimits", Json::object());
  serialVolumeCreation = state.value("serialVolumeCreation", false);
  operationDurations.clear();
  const Json durations = state.value("operationMilliseconds", Json::object());  // items() of a temporary dangles
  for (const auto& [kind, ms] : durations.items()) {
    operationDurations[kind] = std::chrono::milliseconds(ms.get<std::int64_t>());
  }
  counter_ = state.value("counter", std::uint64_t{0});
  auto offset = std::chrono::seconds(state.value("clockOffsetSeconds", std::int64_t{0}));
  clock.advance(offset - clock.offset());
}

}  // namespace anf::emulator
