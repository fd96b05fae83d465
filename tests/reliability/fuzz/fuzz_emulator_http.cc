// libFuzzer target: the emulator's request handling without sockets: Service::handle (percent-decoding, query and
// form parsing, fault rules, the control API, Entra's token endpoint, Graph, the ARM router and providers) on a
// request decoded from the input. One Service serves every input, as one emulator serves a whole test run
// (requests to /_emulator/clock are skipped and fault rules cleared after each input, see below).
// No crash, hang, leak or exception.
//
// Input (HTTP/1.1-like text): "METHOD target\nname: value\n...\n\nbody". A header value "$ARM" or "$GRAPH" is
// replaced by "Bearer <a valid token>" for that audience, minted at start, so that inputs get past authentication.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "emulator/http.h"
#include "emulator/log.h"
#include "emulator/service.h"
#include "tests/reliability/fuzz/http_text.h"

namespace {

using namespace anf::emulator;

struct Harness {
  std::unique_ptr<Service> service;
  std::string armToken;
  std::string graphToken;

  Harness() {
    Options options;
    options.insecureHttp = true;
    emulatorLog()->set_level(spdlog::level::off);  // Emulator::start applies options.logLevel; Service does not
    service = std::move(Service::create(options).value());
    service->setBaseUrl("http://127.0.0.1:1");
    armToken = mint("https://management.azure.com/.default");
    graphToken = mint("https://graph.microsoft.com/.default");
  }

  /// A client-credentials token of the default world's first principal.
  std::string mint(const std::string& scope) {
    const auto tenant = service->endpoints().tenants.front();
    const auto& principal = tenant.principals.front();
    HttpRequest request{.method = "POST", .target = "/" + tenant.tenantId + "/oauth2/v2.0/token",
                        .headers = {{"content-type", "application/x-www-form-urlencoded"}}};
    request.body = "grant_type=client_credentials&client_id=" + principal.clientId +
                   "&client_secret=" + principal.clientSecret + "&scope=" + scope;
    auto response = service->handle(request);
    return "Bearer " + nlohmann::json::parse(response.body).at("access_token").get<std::string>();
  }
};

HttpRequest parseRequest(std::string_view text, const Harness& harness) {
  auto message = anf::fuzz::parseHttpText(text);
  auto space = message.firstLine.find(' ');
  HttpRequest request{.method = message.firstLine.substr(0, space),
                      .target = space == std::string::npos ? "/" : message.firstLine.substr(space + 1),
                      .body = std::move(message.body)};
  for (auto& [name, value] : message.headers)
    request.headers[name] = value == "$ARM" ? harness.armToken : value == "$GRAPH" ? harness.graphToken : std::move(value);
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness harness;
  auto request = parseRequest(std::string_view(reinterpret_cast<const char*>(data), size), harness);
  // State an input leaves behind that would shut every later input out: fault rules (a 503 for all) and a clock
  // moved past the tokens' expiry.
  if (request.target.find("/_emulator/clock") != std::string::npos) return 0;
  (void)harness.service->handle(request);
  (void)harness.service->handle({.method = "DELETE", .target = "/_emulator/faults"});
  return 0;
}
