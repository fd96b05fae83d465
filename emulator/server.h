#pragma once
// The emulator's HTTP/1.1 server (Boost.Beast over Asio, TLS with OpenSSL): keep-alive, a small thread pool, and
// the two faults only a server can inject (latency on a timer, dropping the connection). Beast stays in server.cc.
#include <expected>
#include <functional>
#include <memory>
#include <string>

#include "emulator/http.h"

namespace anf::emulator {

struct Certificates;

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  /// Binds `host:port` (port 0: any free port) and serves with `threads` threads. `tls` null: plain HTTP.
  static std::expected<std::unique_ptr<HttpServer>, std::string> start(const std::string& host, unsigned short port,
                                                                        const Certificates* tls, int threads, Handler handler);
  virtual ~HttpServer() = default;
  /// The port actually bound.
  virtual unsigned short port() const = 0;
  /// Stops accepting, abandons open connections and joins the threads. Idempotent.
  virtual void stop() = 0;
};
using HttpServerPtr = std::unique_ptr<HttpServer>;

}  // namespace anf::emulator
