#include "emulator/providers/arm.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <regex>

namespace anf::emulator::arm {
namespace {

std::atomic<std::size_t> gPageSize{100};

std::string trimSlash(std::string_view text) {
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  return std::string(text);
}

std::string urlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' || c == '$' || c == '(' ||
        c == ')' || c == ',') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The value after `/{segment}/` in an id (case-insensitive), or "".
std::string segmentValue(std::string_view id, std::string_view segment) {
  std::string lowered = lower(id);
  std::string needle = "/" + lower(segment) + "/";
  auto at = lowered.find(needle);
  if (at == std::string::npos) return "";
  auto start = at + needle.size();
  auto end = id.find('/', start);
  return std::string(id.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
}

}  // namespace

Json Error::toJson() const {
  Json error{{"code", code}, {"message", message}};
  if (!detail.empty()) error["details"] = Json::array({Json{{"code", code}, {"message", detail}}});
  return error;
}

Response Error::toResponse() const { return Response::json(status, Json{{"error", toJson()}}); }

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Allocation-free: the limit checks call these once per volume of the subscription on every PUT.
bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

std::string lastSegment(std::string_view id) {
  std::string trimmed = trimSlash(id);
  auto slash = trimmed.rfind('/');
  return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

std::string parentId(std::string_view id) {
  std::string trimmed = trimSlash(id);
  for (int i = 0; i < 2; ++i) {
    auto slash = trimmed.rfind('/');
    if (slash == std::string::npos) return "";
    trimmed.resize(slash);
  }
  return trimmed;
}

bool isAtOrBelow(std::string_view id, std::string_view scope) {
  std::string a = lower(trimSlash(id));
  std::string s = lower(trimSlash(scope));
  if (s.empty()) return true;  // the root scope "/"
  return a == s || a.starts_with(s + "/");
}

bool sameId(std::string_view a, std::string_view b) {
  while (!a.empty() && a.back() == '/') a.remove_suffix(1);
  while (!b.empty() && b.back() == '/') b.remove_suffix(1);
  return iequals(a, b);
}

std::string subscriptionOf(std::string_view id) { return segmentValue(id, "subscriptions"); }
std::string resourceGroupOf(std::string_view id) { return segmentValue(id, "resourceGroups"); }

bool isGuid(std::string_view text) {
  static const std::regex kGuid("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
  return std::regex_match(std::string(text), kGuid);
}

Json publicView(const Json& resource) {
  if (!resource.is_object()) return resource;
  Json view = Json::object();
  for (const auto& [key, value] : resource.items()) {
    if (!key.starts_with('_')) view[key] = value;
  }
  return view;
}

Json systemData(const Request& request, const Json* existing, const std::string& now) {
  std::string by = request.caller.appId.empty() ? request.caller.objectId : request.caller.appId;
  Json data{{"lastModifiedBy", by}, {"lastModifiedByType", "Application"}, {"lastModifiedAt", now}};
  const Json before = existing ? existing->value("systemData", Json::object()) : Json::object();
  data["createdBy"] = before.value("createdBy", by);
  data["createdByType"] = before.value("createdByType", std::string("Application"));
  data["createdAt"] = before.value("createdAt", now);
  return data;
}

void mergePatch(Json& target, const Json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = Json::object();
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      target.erase(key);
    } else {
      mergePatch(target[key], value);
    }
  }
}

namespace {
Json stripNulls(const Json& value) {
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [key, member] : value.items()) {
      if (!member.is_null()) out[key] = stripNulls(member);
    }
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& item : value) out.push_back(stripNulls(item));
    return out;
  }
  return value;
}
}  // namespace

Request withoutNulls(const Request& request) {
  Request cleaned = request;
  cleaned.body = stripNulls(request.body);
  return cleaned;
}

std::string stringAt(const Json& object, std::string_view jsonPointer, const std::string& fallback) {
  Json::json_pointer pointer{std::string(jsonPointer)};
  if (!object.is_object() || !object.contains(pointer)) return fallback;
  const Json& value = object.at(pointer);
  return value.is_string() ? value.get<std::string>() : fallback;
}

Response resourceNotFound(const std::string& resourceType, const std::string& id) {
  std::string lowered = lower(id);
  auto at = lowered.find("/providers/");
  std::string path = at == std::string::npos ? resourceType + "/" + lastSegment(id) : id.substr(at + 11);
  std::string group = resourceGroupOf(id);
  std::string message = "The Resource '" + path + "' under resource group '" + group +
                        "' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix";
  return Response::error(404, "ResourceNotFound", message);
}

Response parentNotFound(const std::string& parentId) {
  std::string lowered = lower(parentId);
  auto at = lowered.find("/providers/");
  std::string name;
  if (at != std::string::npos) {
    // "Microsoft.X/types/a/subtypes/b" -> "a/b"
    std::string rest = parentId.substr(at + 11);
    std::vector<std::string> parts;
    for (std::size_t start = 0; start <= rest.size();) {
      auto slash = rest.find('/', start);
      parts.push_back(rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    for (std::size_t i = 2; i < parts.size(); i += 2) name += (name.empty() ? "" : "/") + parts[i];
  } else {
    name = lastSegment(parentId);
  }
  return Response::error(404, "ParentResourceNotFound",
                         "Can not perform requested operation on nested resource. Parent resource '" + name + "' not found.");
}

Response badRequest(const std::string& code, const std::string& message, const std::string& target) {
  return Response::error(400, code, message, target);
}

Response methodNotAllowed(const Request& request) {
  return Response::error(405, "MethodNotAllowed",
                         "The requested resource does not support http method '" + request.method + "'.");
}

std::optional<Response> checkName(const std::string& name, const std::string& pattern, const std::string& resourceType) {
  if (std::regex_match(name, std::regex(pattern))) return std::nullopt;
  return badRequest("InvalidResourceName", "Resource name " + name + " is invalid for type " + resourceType +
                                               ". The name must match the pattern " + pattern + ".");
}

std::optional<Response> checkLocation(const Json& body) {
  if (body.is_object() && body.contains("location") && body["location"].is_string() &&
      !body["location"].get<std::string>().empty()) {
    return std::nullopt;
  }
  return badRequest("LocationRequired", "The location property is required for this definition.");
}

std::optional<Response> checkObjectBody(const Request& request) {
  if (request.body.is_object()) return std::nullopt;
  return badRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                             "the body must be a JSON object.");
}

std::optional<Response> checkPreconditions(const Request& request, const Json* existing) {
  auto failed = [] {
    return Response::error(412, "PreconditionFailed",
                           "The condition specified using HTTP conditional header(s) is not met.");
  };
  if (auto it = request.headers.find("if-match"); it != request.headers.end() && !it->second.empty()) {
    if (existing == nullptr) return failed();
    if (it->second != "*" && it->second != existing->value("etag", std::string{})) return failed();
  }
  if (auto it = request.headers.find("if-none-match"); it != request.headers.end() && it->second == "*") {
    if (existing != nullptr) return failed();
  }
  return std::nullopt;
}

void setDefaultPageSize(std::size_t size) { gPageSize = std::max<std::size_t>(size, 1); }
std::size_t defaultPageSize() { return gPageSize; }

Response listPage(const Request& request, std::vector<Json> items) {
  std::size_t skip = 0;
  std::size_t top = defaultPageSize();
  try {
    if (auto it = request.query.find("$skiptoken"); it != request.query.end()) skip = std::stoul(it->second);
    if (auto it = request.query.find("$top"); it != request.query.end()) top = std::max<std::size_t>(std::stoul(it->second), 1);
  } catch (const std::exception&) {
    return badRequest("InvalidQueryParameterValue", "The value of $skiptoken or $top is not a valid number.");
  }
  Json value = Json::array();
  for (std::size_t i = skip; i < items.size() && i < skip + top; ++i) value.push_back(std::move(items[i]));
  Json body{{"value", std::move(value)}};
  if (skip + top < items.size()) {
    auto header = [&](const std::string& name, const std::string& fallback) {
      auto it = request.headers.find(name);
      return it == request.headers.end() || it->second.empty() ? fallback : it->second;
    };
    std::string link = header("x-forwarded-proto", "https") + "://" + header("host", "management.azure.com") +
                       urlEncode(request.path) + "?";
    for (const auto& [key, val] : request.query) {
      if (key != "$skiptoken") link += urlEncode(key) + "=" + urlEncode(val) + "&";
    }
    link += "$skiptoken=" + std::to_string(skip + top);
    body["nextLink"] = link;
  }
  return Response::json(200, std::move(body));
}

Response ok(const Json& resource, int status) {
  Response response = Response::json(status, publicView(resource));
  if (resource.contains("etag") && resource["etag"].is_string()) response.headers["ETag"] = resource["etag"];
  return response;
}

Json* findTyped(World& world, const std::string& id, std::string_view type) {
  Json* found = world.find(id);
  if (found == nullptr || !iequals(found->value("type", std::string{}), type)) return nullptr;
  return found;
}

std::vector<Json*> ofType(World& world, std::string_view type, const std::string& scopeId) {
  return world.ofType(type, scopeId.empty() ? "/subscriptions/" : trimSlash(scopeId) + "/");
}

}  // namespace anf::emulator::arm
