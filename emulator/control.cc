// /_emulator/: faults, the request log, the clock, the state dump, throttling limits, list page size, workload
// identity tokens.
// These paths need no token and are never faulted, throttled or logged as requests.
#include <cmath>

#include "emulator/providers/arm.h"
#include "emulator/service.h"

namespace anf::emulator {
namespace {

HttpResponse controlError(int status, const std::string& message) {
  return toHttp(Response::error(status, status == 404 ? "NotFound" : "BadRequest", message));
}

Json bucketJson(const BucketLimit& limit) { return {{"bucket", limit.bucket}, {"perSecond", limit.perSecond}}; }

}  // namespace

std::expected<std::vector<FaultRule>, std::string> Service::parseFaultRules(const Json& body) const {
  if (!body.is_object() || !body.contains("rules") || !body["rules"].is_array()) return std::unexpected("expected {\"rules\": [...]}");
  std::vector<FaultRule> rules;
  for (const auto& item : body["rules"]) {
    if (!item.is_object()) return std::unexpected("every rule must be an object");
    FaultRule rule;
    rule.source = item;
    try {
      rule.method = item.value("method", "");
      rule.pathPattern = item.value("pathPattern", "");
      if (!rule.pathPattern.empty()) rule.pattern = std::regex(rule.pathPattern, std::regex::ECMAScript);
      rule.rate = item.value("rate", 1.0);
      rule.status = item.value("status", 0);
      rule.retryAfter = item.value("retryAfter", -1);
      rule.drop = item.value("drop", false);
      rule.latencyMs = item.value("latencyMs", 0);
    } catch (const std::regex_error& error) {
      return std::unexpected("pathPattern '" + rule.pathPattern + "' is not a valid regular expression: " + error.what());
    } catch (const Json::exception& error) {
      return std::unexpected(std::string("a rule has a field of the wrong type: ") + error.what());
    }
    if (rule.rate < 0 || rule.rate > 1) return std::unexpected("rate must be between 0 and 1");
    if (rule.status != 0 && (rule.status < 400 || rule.status > 599)) return std::unexpected("status must be a 4xx or 5xx code");
    if (rule.status == 0 && !rule.drop && rule.latencyMs <= 0) return std::unexpected("a rule needs status, drop or latencyMs");
    rules.push_back(std::move(rule));
  }
  return rules;
}

HttpResponse Service::handleControl(const std::string& method, const std::string& path, const HttpRequest& http) {
  Json body;
  if (http.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    body = Json::parse(http.body, nullptr, false);
    if (body.is_discarded()) return controlError(400, "the body is not valid JSON");
  }
  auto ok = [](const Json& json) { return toHttp(Response::json(200, json)); };
  auto faultsJson = [&] {
    Json rules = Json::array();
    for (const auto& rule : faults_) rules.push_back(rule.source);
    return Json{{"rules", rules}};
  };

  if (path == "/_emulator/faults") {
    if (method == "GET") return ok(faultsJson());
    if (method == "DELETE") {
      faults_.clear();
      return ok(faultsJson());
    }
    if (method == "PUT") {
      auto rules = parseFaultRules(body);
      if (!rules) return controlError(400, rules.error());
      faults_ = std::move(*rules);
      return ok(faultsJson());
    }
  }
  if (path == "/_emulator/requests") {
    if (method == "DELETE") {
      requestLog_.clear();
      return ok({{"items", Json::array()}});
    }
    if (method == "GET") {
      Json items = Json::array();
      for (const auto& entry : requestLog_) {
        items.push_back({{"time", entry.time},
                         {"method", entry.method},
                         {"path", entry.path},
                         {"apiVersion", entry.apiVersion},
                         {"status", entry.status},
                         {"durationMs", entry.durationMs},
                         {"tenantId", entry.tenantId}});
      }
      return ok({{"items", items}});
    }
  }
  if (path == "/_emulator/clock" && method == "GET") {
    return ok({{"now", world_.clock.iso8601()}, {"unixSeconds", world_.clock.unixSeconds()}, {"offsetSeconds", world_.clock.offset().count()}});
  }
  if (path == "/_emulator/clock/advance" && method == "POST") {
    if (!body.is_object() || !body.contains("seconds") || !body["seconds"].is_number()) return controlError(400, "expected {\"seconds\": N}");
    double seconds = body["seconds"].get<double>();
    if (seconds < 0) return controlError(400, "the clock only moves forward");
    world_.clock.advance(std::chrono::seconds(static_cast<std::int64_t>(std::ceil(seconds))));
    dirty_ = true;
    return ok({{"now", world_.clock.iso8601()}, {"unixSeconds", world_.clock.unixSeconds()}, {"offsetSeconds", world_.clock.offset().count()}});
  }
  if (path == "/_emulator/state" && method == "GET") {
    Json state = world_.toJson();
    Json operations = Json::array();
    for (const auto& key : operationOrder_) {
      const Operation& operation = operations_.at(key);
      operations.push_back({{"name", operation.name},
                            {"resourceId", operation.spec.resourceId},
                            {"status", operation.state == Operation::State::InProgress ? "InProgress"
                                       : operation.state == Operation::State::Succeeded ? "Succeeded"
                                                                                        : "Failed"},
                            {"startTime", operation.startTime},
                            {"endTime", operation.endTime}});
    }
    state["operations"] = operations;
    return ok(state);
  }
  if (path == "/_emulator/throttling") {
    if (method == "PUT") {
      if (!body.is_object()) return controlError(400, "expected {\"reads\": {\"bucket\", \"perSecond\"}, \"writes\": ..., \"deletes\": ...}");
      for (auto [name, limit] : {std::pair{"reads", &limits_.reads}, {"writes", &limits_.writes}, {"deletes", &limits_.deletes}}) {
        if (!body.contains(name)) continue;
        const Json& entry = body[name];
        if (!entry.is_object()) return controlError(400, std::string(name) + " must be an object");
        limit->bucket = entry.value("bucket", limit->bucket);
        limit->perSecond = entry.value("perSecond", limit->perSecond);
      }
      buckets_.clear();
    }
    if (method == "PUT" || method == "GET") {
      return ok({{"reads", bucketJson(limits_.reads)}, {"writes", bucketJson(limits_.writes)}, {"deletes", bucketJson(limits_.deletes)}});
    }
  }
  if (path == "/_emulator/paging") {
    if (method == "PUT") {
      if (!body.is_object() || !body.contains("pageSize") || !body["pageSize"].is_number_integer() || body["pageSize"].get<std::int64_t>() < 1) {
        return controlError(400, "expected {\"pageSize\": N} with N >= 1");
      }
      arm::setDefaultPageSize(body["pageSize"].get<std::size_t>());
    }
    if (method == "PUT" || method == "GET") return ok({{"pageSize", arm::defaultPageSize()}});
  }
  if (path == "/_emulator/workload-identity-token" && method == "POST") return mintWorkloadIdentityToken(body);
  if (path == "/_emulator/oidc/.well-known/openid-configuration" && method == "GET") {
    return ok({{"issuer", workloadIdentityIssuer()},
               {"jwks_uri", workloadIdentityIssuer() + "/keys"},
               {"response_types_supported", {"id_token"}},
               {"subject_types_supported", {"public"}},
               {"id_token_signing_alg_values_supported", {"RS256"}}});
  }
  if (path == "/_emulator/oidc/keys" && method == "GET") return ok({{"keys", {signer_->jwk()}}});
  if (path == "/_emulator/health" && method == "GET") return ok({{"status", "ok"}});
  return controlError(404, "no control endpoint " + method + " " + path);
}

HttpResponse Service::mintWorkloadIdentityToken(const Json& body) {
  if (!body.is_object()) return controlError(400, "expected {\"tenantId\", \"clientId\", \"subject\"}");
  std::string tenantId = body.value("tenantId", "");
  std::string clientId = body.value("clientId", "");
  std::string subject = body.value("subject", "system:serviceaccount:anf-system:anf-cmk-operator");
  if (!tenantId.empty() && tenantByIdOrName(tenantId) == nullptr) return controlError(400, "unknown tenant " + tenantId);
  std::int64_t lifetime = body.value("lifetimeSeconds", std::int64_t{3600});
  std::int64_t now = world_.clock.unixSeconds();
  Json claims{{"iss", workloadIdentityIssuer()},
              {"sub", subject},
              {"aud", {"api://AzureADTokenExchange"}},
              {"iat", now},
              {"nbf", now},
              {"exp", now + lifetime}};
  if (!clientId.empty()) claims["azure.workload.identity/client-id"] = clientId;
  if (!tenantId.empty()) claims["azure.workload.identity/tenant-id"] = tenantId;
  return toHttp(Response::json(200, {{"token", signer_->sign(claims)},
                                     {"issuer", workloadIdentityIssuer()},
                                     {"subject", subject},
                                     {"audience", "api://AzureADTokenExchange"},
                                     {"expiresOn", now + lifetime}}));
}

}  // namespace anf::emulator
