#include "controller/servers.h"

#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "controller/engine.h"
#include "controller/metrics.h"

namespace anf::controller {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

HttpResponse jsonResponse(int status, const Json& body) {
  return HttpResponse{.status = status, .contentType = "application/json", .body = body.dump(2) + "\n"};
}

HttpResponse notFound(const std::string& what) {
  return jsonResponse(404, Json{{"error", {{"code", "NotFound"}, {"message", what}}}});
}

const HttpHandler* route(const Routes& routes, const std::string& path) {
  if (auto it = routes.find(path); it != routes.end()) return &it->second;
  for (const auto& [prefix, handler] : routes)
    if (prefix.ends_with('/') && path.starts_with(prefix)) return &handler;
  return nullptr;
}

/// One connection: read a request, answer it, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<const Routes> routes)
      : stream_(std::move(socket)), routes_(std::move(routes)) {}
  void run() { read(); }

 private:
  void read() {
    request_ = {};
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->answer();
    });
  }

  void answer() {
    HttpRequest req{.method = std::string(request_.method_string()), .target = std::string(request_.target()), .path = {}};
    req.path = req.target.substr(0, req.target.find('?'));
    HttpResponse res;
    if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      res = HttpResponse{.status = 405, .contentType = "text/plain; charset=utf-8", .body = "method not allowed\n"};
    } else if (const HttpHandler* handler = route(*routes_, req.path)) {
      res = (*handler)(req);
    } else {
      res = notFound("no route for " + req.path);
    }
    auto response = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(res.status), request_.version());
    response->set(http::field::server, "anf-cmk-operator");
    response->set(http::field::content_type, res.contentType);
    response->keep_alive(request_.keep_alive());
    response->body() = std::move(res.body);
    response->prepare_payload();
    http::async_write(stream_, *response, [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
      if (ec || !response->keep_alive()) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::shared_ptr<const Routes> routes_;
};

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, Routes r) : acceptor(io), routes(std::make_shared<const Routes>(std::move(r))) {}
  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(socket), self->routes)->run();
      self->accept();
    });
  }
  tcp::acceptor acceptor;
  std::shared_ptr<const Routes> routes;
  std::uint16_t port = 0;
};

std::expected<ListenAddress, std::string> parseListenAddress(const std::string& text) {
  const auto colon = text.rfind(':');
  ListenAddress out;
  std::string port = text;
  if (colon != std::string::npos) {
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (out.host.size() > 1 && out.host.front() == '[' && out.host.back() == ']') out.host = out.host.substr(1, out.host.size() - 2);
  try {
    std::size_t used = 0;
    const int p = std::stoi(port, &used);
    if (used != port.size() || p < 0 || p > 65535) throw std::out_of_range("port");
    out.port = static_cast<std::uint16_t>(p);
  } catch (const std::exception&) {
    return std::unexpected("invalid listen address '" + text + "': want HOST:PORT or :PORT");
  }
  return out;
}

std::expected<std::unique_ptr<HttpServer>, std::string> HttpServer::start(asio::io_context& io, const std::string& address,
                                                                          Routes routes) {
  auto listen = parseListenAddress(address);
  if (!listen) return std::unexpected(listen.error());
  beast::error_code ec;
  const auto ip = asio::ip::make_address(listen->host.empty() ? "0.0.0.0" : listen->host, ec);
  if (ec) return std::unexpected("invalid listen address '" + address + "': " + ec.message());
  auto impl = std::make_shared<Impl>(io, std::move(routes));
  const tcp::endpoint endpoint(ip, listen->port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return std::unexpected("cannot listen on " + address + ": " + ec.message());
  impl->port = impl->acceptor.local_endpoint().port();
  impl->accept();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::stop() {
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
}

Routes metricsRoutes(const Metrics& metrics) {
  return {{"/metrics", [&metrics](const HttpRequest&) {
             return HttpResponse{.status = 200, .contentType = "text/plain; version=0.0.4; charset=utf-8", .body = metrics.text()};
           }}};
}

Routes healthRoutes(std::function<std::string()> ready) {
  return {{"/healthz", [](const HttpRequest&) { return HttpResponse{.body = "ok\n"}; }},
          {"/readyz", [ready = std::move(ready)](const HttpRequest&) {
             const std::string why = ready ? ready() : std::string();
             if (why.empty()) return HttpResponse{.body = "ok\n"};
             return HttpResponse{.status = 503, .body = why + "\n"};
           }}};
}

Routes statusRoutes(const Engine& engine) {
  auto list = [&engine](const HttpRequest&) { return jsonResponse(200, engine.statuses().listJson()); };
  auto one = [&engine](const HttpRequest& req) {
    const std::string rest = req.path.substr(std::string_view("/api/v1/resources/").size());
    const auto slash = rest.find('/');
    const auto kind = parseKind(rest.substr(0, slash));
    if (!kind) return notFound("unknown kind '" + rest.substr(0, slash) + "'");
    if (slash == std::string::npos || slash + 1 >= rest.size()) {
      Json items = Json::array();
      for (const auto& s : engine.statuses().list())
        if (s.key.kind == *kind) items.push_back(toApiJson(s));
      return jsonResponse(200, Json{{"kind", "ResourceList"}, {"items", std::move(items)}});
    }
    const DocumentKey key{*kind, rest.substr(slash + 1)};
    const auto s = engine.statuses().get(key);
    if (!s) return notFound(key.str() + " not found");
    return jsonResponse(200, toApiJson(*s));
  };
  return {{"/api/v1/resources", list}, {"/api/v1/resources/", one}};
}

std::expected<HttpGetResult, std::string> httpGet(const std::string& address, const std::string& target, int timeoutMillis) {
  auto listen = parseListenAddress(address);
  if (!listen) return std::unexpected(listen.error());
  const std::string host = listen->host.empty() || listen->host == "0.0.0.0" ? "127.0.0.1" : listen->host;
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, host);
  request.set(http::field::user_agent, "anf-cmk-operator");
  http::response<http::string_body> response;
  std::string failure;
  stream.expires_after(std::chrono::milliseconds(timeoutMillis));
  resolver.async_resolve(host, std::to_string(listen->port), [&](beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return void(failure = ec.message());
    stream.async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return void(failure = ec.message());
      http::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
        if (ec) return void(failure = ec.message());
        http::async_read(stream, buffer, response, [&](beast::error_code ec, std::size_t) {
          if (ec) failure = ec.message();
        });
      });
    });
  });
  io.run();
  if (!failure.empty()) return std::unexpected(host + ":" + std::to_string(listen->port) + ": " + failure);
  return HttpGetResult{.status = static_cast<int>(response.result_int()), .body = std::move(response.body())};
}

}  // namespace anf::controller
