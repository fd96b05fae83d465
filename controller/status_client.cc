#include "controller/status_client.h"

#include <algorithm>
#include <array>
#include <vector>

#include "controller/conditions.h"
#include "controller/servers.h"

namespace anf::controller {

namespace {

const Json* conditionOf(const Json& conditions, std::string_view type) {
  if (!conditions.is_array()) return nullptr;
  for (const auto& c : conditions)
    if (c.value("type", "") == type) return &c;
  return nullptr;
}

std::string oneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

/// " (HTTP 400 KeyVaultKeyDisabled, x-ms-request-id 1234)": what Azure support asks for, after the message.
std::string azureErrorSuffix(const Json& status) {
  const auto e = status.find("azureError");
  if (e == status.end() || !e->is_object()) return "";
  std::string out = " (HTTP " + std::to_string(e->value("httpStatus", 0));
  if (const std::string code = e->value("code", ""); !code.empty()) out += " " + code;
  if (const std::string id = e->value("requestId", ""); !id.empty()) out += ", x-ms-request-id " + id;
  return out + ")";
}

}  // namespace

std::expected<Json, std::string> fetchStatus(const std::string& address, const std::string& kind, const std::string& name) {
  std::string target = "/api/v1/resources";
  if (!kind.empty()) target += "/" + kind;
  if (!kind.empty() && !name.empty()) target += "/" + name;
  auto response = httpGet(address, target);
  if (!response)
    return std::unexpected("cannot reach the operator's status server at " + address + " (" + response.error() +
                           "); is 'anf-cmk-operator run' running there? (--addr sets the address)");
  Json body = Json::parse(response->body, nullptr, false);
  if (response->status == 404) {
    const std::string message = body.is_object() ? body["error"].value("message", "not found") : "not found";
    return std::unexpected(message);
  }
  if (response->status != 200 || body.is_discarded())
    return std::unexpected("status server at " + address + " answered HTTP " + std::to_string(response->status));
  if (!body.contains("items")) body = Json{{"kind", "ResourceList"}, {"items", Json::array({body})}};
  return body;
}

std::string shortAge(std::chrono::seconds age) {
  const long s = std::max<long>(0, age.count());
  if (s < 120) return std::to_string(s) + "s";
  if (s < 120 * 60) return std::to_string(s / 60) + "m";
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string formatStatusTable(const Json& list, std::chrono::system_clock::time_point now) {
  std::vector<std::array<std::string, 6>> rows{{"KIND", "NAME", "READY", "REASON", "AGE", "MESSAGE"}};
  for (const auto& item : list.value("items", Json::array())) {
    const Json status = item.value("status", Json::object());
    const Json conditions = status.value("conditions", Json::array());
    const Json* ready = conditionOf(conditions, condition::kReady);
    const Json* synced = conditionOf(conditions, condition::kSynced);
    const Json* shown = synced && synced->value("status", "") == condition::kFalse ? synced : ready;
    std::string age = "-";
    if (auto since = parseRfc3339(item.value("firstSeen", "")))
      age = shortAge(std::chrono::duration_cast<std::chrono::seconds>(now - *since));
    std::string message = shown ? shown->value("message", "") : "";
    if (shown && shown->value("status", "") == condition::kFalse) message += azureErrorSuffix(status);
    rows.push_back({item.value("kind", ""), item.value("name", ""), ready ? ready->value("status", "Unknown") : "Unknown",
                    shown ? shown->value("reason", "") : "", age, oneLine(message)});
  }
  std::array<std::size_t, 6> width{};
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  if (list.contains("operator"))
    for (const auto& c : list["operator"].value("conditions", Json::array()))
      if (c.value("status", "") != condition::kTrue)
        out += "operator: " + c.value("type", "") + "=" + c.value("status", "") + " " + c.value("reason", "") + ": " +
               oneLine(c.value("message", "")) + "\n";
  return out;
}

}  // namespace anf::controller
