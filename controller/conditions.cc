#include "controller/conditions.h"

#include <ctime>
#include <cstdio>

namespace anf::controller {

std::string rfc3339(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::chrono::system_clock::time_point> parseRfc3339(std::string_view text) {
  std::tm tm{};
  const std::string s(text);
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

const Condition* findCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const auto& c : conditions)
    if (c.type == type) return &c;
  return nullptr;
}

bool setCondition(std::vector<Condition>& conditions, Condition wanted, std::chrono::system_clock::time_point now) {
  for (auto& c : conditions) {
    if (c.type != wanted.type) continue;
    if (c.status == wanted.status && c.reason == wanted.reason && c.message == wanted.message) return false;
    wanted.lastTransitionTime = c.status == wanted.status ? c.lastTransitionTime : rfc3339(now);
    c = std::move(wanted);
    return true;
  }
  wanted.lastTransitionTime = rfc3339(now);
  conditions.push_back(std::move(wanted));
  return true;
}

bool setCondition(std::vector<Condition>& conditions, std::string_view type, std::string_view status,
                  std::string_view reason, std::string message, std::chrono::system_clock::time_point now) {
  return setCondition(conditions,
                      Condition{.type = std::string(type), .status = std::string(status),
                                .reason = std::string(reason), .message = std::move(message), .lastTransitionTime = {}},
                      now);
}

bool isTrue(const std::vector<Condition>& conditions, std::string_view type) {
  const Condition* c = findCondition(conditions, type);
  return c != nullptr && c->status == condition::kTrue;
}

Json toJson(const Condition& c) {
  return Json{{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message},
              {"lastTransitionTime", c.lastTransitionTime}};
}

Condition conditionFromJson(const Json& j) {
  return Condition{.type = j.value("type", ""), .status = j.value("status", ""), .reason = j.value("reason", ""),
                   .message = j.value("message", ""), .lastTransitionTime = j.value("lastTransitionTime", "")};
}

}  // namespace anf::controller
