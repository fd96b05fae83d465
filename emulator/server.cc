#include <utility>  // before Asio (Boost 1.74 under C++23)

#include "emulator/server.h"

#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "emulator/crypto.h"

namespace anf::emulator {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(120);
constexpr std::uint64_t kBodyLimit = 16 * 1024 * 1024;

/// One connection: read a request, hand it to the handler, write the answer, repeat while keep-alive.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, const HttpServer::Handler& handler)
      : stream_(std::move(stream)), handler_(handler), timer_(stream_.get_executor()) {}

  void run() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code error) {
        if (!error) self->read();
      });
    } else {
      read();
    }
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code error, std::size_t) {
      if (error) return self->close(error == http::error::end_of_stream);
      self->serve();
    });
  }

  void serve() {
    auto request = parser_->release();
    HttpRequest plain;
    plain.method = std::string(request.method_string());
    plain.target = std::string(request.target());
    for (const auto& field : request) {
      std::string name(field.name_string());
      std::ranges::transform(name, name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      plain.headers[name] = std::string(field.value());
    }
    plain.body = std::move(request.body());
    keepAlive_ = request.keep_alive();
    version_ = request.version();
    head_ = request.method() == http::verb::head;
    auto answer = std::make_shared<HttpResponse>(handler_(plain));
    if (answer->delay.count() > 0) {
      timer_.expires_after(answer->delay);
      timer_.async_wait([self = this->shared_from_this(), answer](beast::error_code) { self->respond(*answer); });
    } else {
      respond(*answer);
    }
  }

  void respond(const HttpResponse& answer) {
    if (answer.drop) {
      beast::error_code ignored;
      beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(stream_).socket().close(ignored);
      return;
    }
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(answer.status));
    for (const auto& [name, value] : answer.headers) response_.set(name, value);
    response_.set(http::field::server, "anf-cmk-operator-emulator");
    if (!answer.body.empty() && response_.find(http::field::content_type) == response_.end()) {
      response_.set(http::field::content_type, "application/json; charset=utf-8");
    }
    response_.keep_alive(keepAlive_);
    response_.body() = head_ ? std::string() : answer.body;
    response_.prepare_payload();
    if (head_) response_.content_length(answer.body.size());
    http::async_write(stream_, response_, [self = this->shared_from_this()](beast::error_code error, std::size_t) {
      if (error) return self->close(false);
      if (!self->keepAlive_) return self->close(true);
      self->read();
    });
  }

  void close(bool graceful) {
    beast::error_code ignored;
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      if (graceful) {
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
        stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
          beast::error_code ignoredToo;
          beast::get_lowest_layer(self->stream_).socket().close(ignoredToo);
        });
        return;
      }
    }
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  Stream stream_;
  const HttpServer::Handler& handler_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  bool keepAlive_ = true;
  bool head_ = false;
  unsigned version_ = 11;
};

class BeastServer : public HttpServer {
 public:
  BeastServer(int threads, Handler handler) : io_(threads), acceptor_(io_), handler_(std::move(handler)), threadCount_(threads) {}
  ~BeastServer() override { stop(); }

  std::expected<void, std::string> bind(const std::string& host, unsigned short port, const Certificates* tls) {
    beast::error_code error;
    auto address = net::ip::make_address(host, error);
    if (error) return std::unexpected("listen address '" + host + "' is not an IP address");
    tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(net::socket_base::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(net::socket_base::max_listen_connections, error);
    if (error) return std::unexpected("cannot listen on " + host + ":" + std::to_string(port) + ": " + error.message());
    port_ = acceptor_.local_endpoint().port();
    if (tls != nullptr) {
      tls_ = std::make_unique<ssl::context>(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                        ssl::context::no_tlsv1_1);
      std::string chain = tls->serverCertPem + tls->caCertPem;
      tls_->use_certificate_chain(net::buffer(chain), error);
      if (!error) tls_->use_private_key(net::buffer(tls->serverKeyPem), ssl::context::pem, error);
      if (error) return std::unexpected("cannot load the server certificate: " + error.message());
    }
    accept();
    for (int i = 0; i < threadCount_; ++i) threads_.emplace_back([this] { io_.run(); });
    return {};
  }

  unsigned short port() const override { return port_; }

  void stop() override {
    if (stopped_.exchange(true)) return;
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    io_.stop();
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  void accept() {
    acceptor_.async_accept(net::make_strand(io_), [this](beast::error_code error, tcp::socket socket) {
      if (error) {
        if (error == net::error::operation_aborted || !acceptor_.is_open()) return;
      } else if (tls_) {
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
            beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls_), handler_)
            ->run();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), handler_)->run();
      }
      accept();
    });
  }

  net::io_context io_;
  tcp::acceptor acceptor_;
  std::unique_ptr<ssl::context> tls_;
  Handler handler_;
  int threadCount_;
  std::vector<std::thread> threads_;
  unsigned short port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace

std::expected<std::unique_ptr<HttpServer>, std::string> HttpServer::start(const std::string& host, unsigned short port,
                                                                           const Certificates* tls, int threads, Handler handler) {
  auto server = std::make_unique<BeastServer>(std::max(1, threads), std::move(handler));
  if (auto bound = server->bind(host, port, tls); !bound) return std::unexpected(bound.error());
  return server;
}

}  // namespace anf::emulator
