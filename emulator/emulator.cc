#include "emulator/emulator.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "emulator/log.h"
#include "emulator/server.h"
#include "emulator/service.h"

namespace anf::emulator {
namespace {

struct ListenAddress {
  std::string host;
  unsigned short port = 0;
};

std::expected<ListenAddress, std::string> parseListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return std::unexpected("--listen must be HOST:PORT, got '" + listen + "'");
  ListenAddress address{listen.substr(0, colon), 0};
  if (address.host.starts_with("[") && address.host.ends_with("]")) address.host = address.host.substr(1, address.host.size() - 2);
  if (address.host.empty() || address.host == "localhost") address.host = "127.0.0.1";
  try {
    int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    address.port = static_cast<unsigned short>(port);
  } catch (const std::exception&) {
    return std::unexpected("--listen has no valid port: '" + listen + "'");
  }
  return address;
}

/// Where the CA goes: --ca-out, else beside --state, else a fresh temp dir.
std::expected<std::string, std::string> caPath(const Options& options) {
  if (!options.caOut.empty()) return options.caOut;
  if (!options.stateFile.empty()) {
    auto directory = std::filesystem::absolute(options.stateFile).parent_path();
    return (directory / "emulator-ca.pem").string();
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "anf-emulator-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return std::unexpected("cannot create a temp dir for the CA");
  return pattern + "/ca.pem";
}

std::expected<void, std::string> writeAtomically(const std::string& path, const std::string& content) {
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << content;
    if (!out) return std::unexpected("cannot write " + temporary);
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) return std::unexpected("cannot write " + path + ": " + error.message());
  return {};
}

class RunningEmulator : public Emulator {
 public:
  RunningEmulator(ServicePtr service, HttpServerPtr server, std::string caFile)
      : service_(std::move(service)), server_(std::move(server)), caFile_(std::move(caFile)) {}
  ~RunningEmulator() override { stop(); }

  Endpoints endpoints() const override {
    Endpoints endpoints = service_->endpoints();
    endpoints.caFile = caFile_;
    return endpoints;
  }

  void stop() override { server_->stop(); }

 private:
  ServicePtr service_;
  HttpServerPtr server_;
  std::string caFile_;
};

}  // namespace

nlohmann::json Endpoints::toJson() const {
  nlohmann::json tenantList = nlohmann::json::array();
  for (const auto& tenant : tenants) {
    nlohmann::json principals = nlohmann::json::array();
    for (const auto& principal : tenant.principals) {
      principals.push_back({{"name", principal.name},
                            {"clientId", principal.clientId},
                            {"clientSecret", principal.clientSecret},
                            {"objectId", principal.objectId}});
    }
    tenantList.push_back({{"tenantId", tenant.tenantId}, {"name", tenant.name}, {"subscriptions", tenant.subscriptions}, {"principals", principals}});
  }
  return {{"resourceManager", resourceManager},
          {"authority", authority},
          {"graph", graph},
          {"caFile", caFile},
          {"workloadIdentityIssuer", workloadIdentityIssuer},
          {"tenants", tenantList}};
}

std::expected<BucketLimit, std::string> parseBucketLimit(const std::string& text) {
  auto colon = text.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument(text);
    std::size_t used = 0;
    BucketLimit limit{std::stod(text.substr(0, colon), &used), 0};
    if (used != colon) throw std::invalid_argument(text);
    limit.perSecond = std::stod(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || limit.bucket < 0 || limit.perSecond < 0) throw std::invalid_argument(text);
    return limit;
  } catch (const std::exception&) {
    return std::unexpected("expected BUCKET:PER_SECOND (e.g. 250:25), got '" + text + "'");
  }
}

std::expected<std::map<std::string, std::chrono::milliseconds>, std::string> operationDurationsOf(const nlohmann::json& seconds) {
  if (!seconds.is_object()) return std::unexpected("expected a mapping of operation kind to seconds");
  std::map<std::string, std::chrono::milliseconds> durations;
  for (const auto& [kind, value] : seconds.items()) {
    bool known = std::ranges::any_of(operationKinds(), [&](const auto& entry) { return entry.first == kind; });
    std::string kinds;
    for (const auto& entry : operationKinds()) kinds += (kinds.empty() ? "" : ", ") + entry.first;
    if (!known) return std::unexpected("unknown operation kind '" + kind + "' (one of " + kinds + ")");
    if (!value.is_number() || value.get<double>() < 0) return std::unexpected(kind + " must be a number of seconds, at least 0");
    durations[kind] = std::chrono::milliseconds(static_cast<std::int64_t>(value.get<double>() * 1000.0));
  }
  return durations;
}

std::expected<std::map<std::string, std::chrono::milliseconds>, std::string> parseOperationDurations(const std::string& text) {
  nlohmann::json seconds = nlohmann::json::object();
  for (std::size_t at = 0; at < text.size();) {
    std::size_t comma = std::min(text.find(',', at), text.size());
    std::string pair = text.substr(at, comma - at);
    std::size_t equals = pair.find('=');
    try {
      std::size_t used = 0;
      if (equals == std::string::npos) throw std::invalid_argument(pair);
      seconds[pair.substr(0, equals)] = std::stod(pair.substr(equals + 1), &used);
      if (used != pair.size() - equals - 1) throw std::invalid_argument(pair);
    } catch (const std::exception&) {
      return std::unexpected("expected KIND=SECONDS[,KIND=SECONDS...] (e.g. volume=240,pool=60), got '" + pair + "'");
    }
    at = comma + 1;
  }
  return operationDurationsOf(seconds);
}

std::expected<std::unique_ptr<Emulator>, std::string> Emulator::start(Options options) {
  emulatorLog()->set_level(spdlog::level::from_str(options.logLevel));
  auto listen = parseListen(options.listen);
  if (!listen) return std::unexpected(listen.error());
  auto service = Service::create(options);
  if (!service) return std::unexpected(service.error());
  std::string caFile;
  if (!options.insecureHttp) {
    auto path = caPath(options);
    if (!path) return std::unexpected(path.error());
    if (auto written = writeAtomically(*path, (*service)->certificates().caCertPem); !written) return std::unexpected(written.error());
    caFile = *path;
  }
  Service* handler = service->get();
  auto server = HttpServer::start(listen->host, listen->port, options.insecureHttp ? nullptr : &(*service)->certificates(), options.threads,
                                  [handler](const HttpRequest& request) { return handler->handle(request); });
  if (!server) return std::unexpected(server.error());
  std::string host = listen->host == "0.0.0.0" ? "127.0.0.1" : listen->host == "::" ? "::1" : listen->host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  (*service)->setBaseUrl(std::string(options.insecureHttp ? "http" : "https") + "://" + host + ":" + std::to_string((*server)->port()));
  emulatorLog()->info("emulator listening on port {}", (*server)->port());
  return std::make_unique<RunningEmulator>(std::move(*service), std::move(*server), caFile);
}

}  // namespace anf::emulator
