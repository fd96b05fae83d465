#pragma once
// Small HTTP/1.1 servers on Boost.Beast for /metrics, /healthz, /readyz and the status API, and the
// client side the `status` subcommand uses. Beast stays inside servers.cc: this header is light.
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace anf::controller {

class Engine;
class Metrics;

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/api/v1/resources?x=y"
  std::string path;    // "/api/v1/resources"
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

/// Routes by exact path, or by prefix when the route ends in "/" (e.g. "/api/v1/resources/").
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
using Routes = std::map<std::string, HttpHandler>;

/// Parses "host:port", ":port" (all interfaces) or "port"; port 0 picks a free one.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};
std::expected<ListenAddress, std::string> parseListenAddress(const std::string& text);

/// One listening socket serving `routes` on the given io_context (run by the caller). Handlers run on
/// the io_context's threads and must be quick (they read in-memory state).
class HttpServer {
 public:
  /// Binds and starts accepting; an error names the address (e.g. "address already in use").
  static std::expected<std::unique_ptr<HttpServer>, std::string> start(boost::asio::io_context& io,
                                                                       const std::string& address, Routes routes);
  ~HttpServer();
  /// The bound port (the real one when the address asked for port 0).
  std::uint16_t port() const;
  /// Stops accepting; open connections finish their current response.
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};
using HttpServerPtr = std::unique_ptr<HttpServer>;

/// GET /metrics in the Prometheus text format.
Routes metricsRoutes(const Metrics& metrics);
/// GET /healthz (always ok while the process serves) and /readyz (ok when `ready()` returns an empty
/// string; otherwise 503 with the returned reason).
Routes healthRoutes(std::function<std::string()> ready);
/// GET /api/v1/resources and /api/v1/resources/{kind}/{name} from the engine's status store.
Routes statusRoutes(const Engine& engine);

/// A plain GET with a timeout, for the `status` subcommand and tests. "host:port" as in the config.
struct HttpGetResult {
  int status = 0;
  std::string body;
};
std::expected<HttpGetResult, std::string> httpGet(const std::string& address, const std::string& target,
                                                  int timeoutMillis = 5000);

}  // namespace anf::controller
