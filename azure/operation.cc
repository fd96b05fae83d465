#include "azure/operation.h"

#include <array>
#include <cmath>
#include <tuple>
#include <utility>

#include "azure/resource_id.h"

namespace anf::azure {
namespace {

constexpr std::array<std::pair<OperationKind, std::string_view>, 3> kKinds{{
    {OperationKind::AzureAsyncOperation, "AzureAsyncOperation"},
    {OperationKind::Location, "Location"},
    {OperationKind::ProvisioningState, "ProvisioningState"},
}};
constexpr std::array<std::pair<FinalStateVia, std::string_view>, 3> kVias{{
    {FinalStateVia::OriginalUri, "original-uri"},
    {FinalStateVia::Location, "location"},
    {FinalStateVia::AzureAsyncOperation, "azure-async-operation"},
}};

template <typename E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view name) {
  for (const auto& [value, text] : table)
    if (equalsIgnoreCase(text, name)) return value;
  return std::nullopt;
}

}  // namespace

std::string_view operationKindName(OperationKind kind) {
  for (const auto& [value, text] : kKinds)
    if (value == kind) return text;
  return "";
}

std::string_view finalStateViaName(FinalStateVia via) {
  for (const auto& [value, text] : kVias)
    if (value == via) return text;
  return "";
}

nlohmann::json OperationState::toJson() const {
  auto started = std::chrono::duration_cast<std::chrono::milliseconds>(startedAt.time_since_epoch()).count();
  nlohmann::json j = {{"url", url},
                      {"kind", operationKindName(kind)},
                      {"resourceId", resourceId},
                      {"method", method},
                      {"finalStateVia", finalStateViaName(finalStateVia)},
                      {"credential", credential},
                      {"startedAtMs", started}};
  if (!location.empty()) j["location"] = location;
  if (!action.empty()) j["action"] = action;
  return j;
}

std::expected<OperationState, std::string> OperationState::fromJson(const nlohmann::json& json) {
  if (!json.is_object()) return std::unexpected("operation state: expected an object");
  auto text = [&](const char* key, bool required) -> std::expected<std::string, std::string> {
    auto it = json.find(key);
    if (it == json.end() || it->is_null()) {
      if (required) return std::unexpected(std::string("operation state: missing '") + key + "'");
      return std::string();
    }
    if (!it->is_string()) return std::unexpected(std::string("operation state: '") + key + "' is not a string");
    return it->get<std::string>();
  };
  OperationState state;
  const std::array<std::tuple<const char*, std::string*, bool>, 6> fields{{{"url", &state.url, true},
                                                                         {"resourceId", &state.resourceId, true},
                                                                         {"method", &state.method, true},
                                                                         {"credential", &state.credential, false},
                                                                         {"location", &state.location, false},
                                                                         {"action", &state.action, false}}};
  for (auto [key, field, required] : fields) {
    auto value = text(key, required);
    if (!value) return std::unexpected(value.error());
    *field = std::move(*value);
  }
  auto kind = text("kind", true);
  if (!kind) return std::unexpected(kind.error());
  auto parsedKind = lookup(kKinds, *kind);
  if (!parsedKind) return std::unexpected("operation state: unknown kind '" + *kind + "'");
  state.kind = *parsedKind;
  auto via = text("finalStateVia", false);
  if (!via) return std::unexpected(via.error());
  if (!via->empty()) {
    auto parsedVia = lookup(kVias, *via);
    if (!parsedVia) return std::unexpected("operation state: unknown finalStateVia '" + *via + "'");
    state.finalStateVia = *parsedVia;
  }
  // Within +-4e12 ms (year 2096): further out, the conversion to system_clock's nanoseconds overflows (UB).
  if (auto it = json.find("startedAtMs"); it != json.end() && it->is_number_integer() &&
                                           std::abs(it->get<double>()) <= 4e12)
    state.startedAt = std::chrono::system_clock::time_point(std::chrono::milliseconds(it->get<long long>()));
  return state;
}

namespace {

std::string sortOf(const OperationState& state) {
  auto id = ResourceId::parse(state.resourceId);
  return state.method + " " + (id ? id->resourceType() : std::string()) + " " + state.action;
}

std::string identityOf(const OperationState& state) {
  return state.resourceId + "|" + state.method + "|" + std::to_string(state.startedAt.time_since_epoch().count());
}

}  // namespace

std::chrono::milliseconds OperationDurations::untilDue(const OperationState& state, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const auto it = expected_.find(sortOf(state));
  if (it == expected_.end() || seenRunning_.contains(identityOf(state))) return std::chrono::milliseconds::zero();
  const auto due = state.startedAt + it->second;
  return due > now ? std::chrono::ceil<std::chrono::milliseconds>(due - now) : std::chrono::milliseconds::zero();
}

void OperationDurations::observe(const OperationState& state, bool ended, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const std::string identity = identityOf(state);
  if (!ended) {
    seenRunning_.insert(identity);
    return;
  }
  const bool wasRunning = seenRunning_.erase(identity) > 0;
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(now - state.startedAt);
  auto [it, first] = expected_.try_emplace(sortOf(state), took);
  if (first || took < std::chrono::milliseconds::zero()) return;
  it->second = wasRunning ? std::max(it->second, took) : it->second * 95 / 100;
}

}  // namespace anf::azure
