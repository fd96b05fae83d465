#include "azure/transport.h"

#include <utility>  // before Boost.Asio (via cpprest) under C++23

#include <cpprest/http_client.h>

#include <boost/asio/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cctype>
#include <fstream>
#include <mutex>
#include <system_error>

namespace anf::azure {
namespace {

using web::http::client::http_client;
using web::http::client::http_client_config;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool contains(const std::string& text, std::string_view what) { return text.find(what) != std::string::npos; }

/// Maps a cpprestsdk failure to a transport error. Messages are cpprestsdk's (http_client_asio.cpp).
AzureError transportError(const std::exception& e, std::error_code code) {
  AzureError error;
  error.message = e.what();
  if (code == std::errc::timed_out || contains(error.message, "timed out")) {
    error.transport = TransportFailure::Timeout;
    error.code = "Timeout";
  } else if (contains(error.message, "SSL handshake") || contains(error.message, "handshake")) {
    error.transport = TransportFailure::ConnectFailed;
    error.code = "TlsHandshakeFailed";
  } else if (contains(error.message, "Failed to connect") || contains(error.message, "resolv") ||
             code == std::errc::connection_refused || code == std::errc::host_unreachable ||
             code == std::errc::network_unreachable) {
    error.transport = TransportFailure::ConnectFailed;
    error.code = "ConnectFailed";
  } else {
    error.transport = TransportFailure::ConnectionLost;
    error.code = "ConnectionLost";
  }
  return error;
}

using TrustStore = std::shared_ptr<X509_STORE>;

/// The system's trust store plus the configured CA file, loaded once. cpprestsdk makes an SSL context per
/// connection and loads the system's CA bundle into each (about 0.45 MiB per connection, held as long as the
/// connection); every context shares this store instead.
std::expected<TrustStore, std::string> loadTrustStore(const std::string& caFile) {
  TrustStore store(X509_STORE_new(), X509_STORE_free);
  if (!store || X509_STORE_set_default_paths(store.get()) != 1) return std::unexpected("cannot load the system's trust store");
  if (!caFile.empty() && X509_STORE_load_file(store.get(), caFile.c_str()) != 1)
    return std::unexpected("cannot load CA file " + caFile);
  return store;
}

class CpprestTransport final : public Transport {
 public:
  CpprestTransport(TlsOptions options, TrustStore trust) : options_(std::move(options)), trust_(std::move(trust)) {}

  pplx::task<TransportResult> send(HttpRequest request) override {
    std::shared_ptr<http_client> client;
    try {
      client = clientFor(originOf(request.url));
    } catch (const std::exception& e) {
      AzureError error;
      error.code = "InvalidUrl";
      error.message = e.what();
      error.transport = TransportFailure::ConnectFailed;
      return pplx::task_from_result(TransportResult(std::unexpected(error)));
    }
    web::http::http_request message(request.method);
    message.set_request_uri(pathAndQueryOf(request.url));
    for (const auto& [name, value] : request.headers) message.headers().add(name, value);
    if (request.body) message.set_body(*request.body, request.contentType);
    return client->request(message)
        .then([](web::http::http_response response) {
          return response.extract_utf8string(true).then([response](std::string body) {
            HttpResponse out;
            out.status = response.status_code();
            for (const auto& [name, value] : response.headers()) out.headers[lower(name)] = value;
            out.body = std::move(body);
            return out;
          });
        })
        .then([](pplx::task<HttpResponse> done) -> TransportResult {
          try {
            return done.get();
          } catch (const web::http::http_exception& e) {
            return std::unexpected(transportError(e, e.error_code()));
          } catch (const std::exception& e) {
            return std::unexpected(transportError(e, {}));
          }
        });
  }

 private:
  std::shared_ptr<http_client> clientFor(const std::string& origin) {
    std::lock_guard lock(mutex_);
    auto& slot = clients_[origin];
    if (!slot) {
      http_client_config config;
      config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(options_.timeout));
      config.set_validate_certificates(!options_.insecure);
      // Called for each new connection, after cpprestsdk loaded the default verify paths into its context:
      // that copy is dropped for the shared store (system CAs and the CA file).
      config.set_ssl_context_callback([trust = trust_](boost::asio::ssl::context& context) {
        SSL_CTX_set1_cert_store(context.native_handle(), trust.get());
      });
      slot = std::make_shared<http_client>(origin, config);
    }
    return slot;
  }

  TlsOptions options_;
  TrustStore trust_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<http_client>> clients_;
};

}  // namespace

std::string HttpResponse::header(const std::string& lowerName) const {
  auto it = headers.find(lowerName);
  return it == headers.end() ? std::string() : it->second;
}

std::expected<TransportPtr, std::string> makeCpprestTransport(TlsOptions options) {
  if (!options.caFile.empty()) {
    std::ifstream in(options.caFile);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && content.empty()) return std::unexpected("cannot read CA file " + options.caFile);
    if (content.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
      return std::unexpected("CA file " + options.caFile + " holds no PEM certificate");
  }
  auto trust = loadTrustStore(options.caFile);
  if (!trust) return std::unexpected(trust.error());
  return std::make_unique<CpprestTransport>(std::move(options), std::move(*trust));
}

std::string originOf(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  auto end = url.find_first_of("/?#", scheme + 3);
  return lower(url.substr(0, end));
}

std::string pathAndQueryOf(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto start = url.find_first_of("/?", scheme + 3);
  if (start == std::string::npos) return "/";
  std::string out = url.substr(start);
  if (auto hash = out.find('#'); hash != std::string::npos) out.resize(hash);
  if (!out.empty() && out.front() == '?') out.insert(out.begin(), '/');
  return out;
}

std::string urlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace anf::azure
