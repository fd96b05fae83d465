#include "kube/http.h"

#include <utility>  // before Boost.Asio (via cpprest) under C++23

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>

#include <boost/asio/ssl.hpp>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace anf::kube {

namespace {

using web::http::client::http_client;
using web::http::client::http_client_config;

using X509Ptr = std::shared_ptr<X509>;
using KeyPtr = std::shared_ptr<EVP_PKEY>;
using StorePtr = std::shared_ptr<X509_STORE>;

std::shared_ptr<BIO> memoryBio(const std::string& pem) {
  return {BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free};
}

/// The trust for the API server: its CA when given (client-go trusts only it), else the system's.
std::expected<StorePtr, std::string> trustStore(const std::string& caPem) {
  StorePtr store(X509_STORE_new(), X509_STORE_free);
  if (caPem.empty()) {
    if (X509_STORE_set_default_paths(store.get()) != 1) return std::unexpected("cannot load the system's trust store");
    return store;
  }
  auto bio = memoryBio(caPem);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    added += X509_STORE_add_cert(store.get(), cert) == 1;
    X509_free(cert);
  }
  if (added == 0) return std::unexpected("the cluster CA holds no PEM certificate");
  return store;
}

struct KeyPair {
  X509Ptr cert;
  KeyPtr key;
};

std::expected<KeyPair, std::string> clientKeyPair(const KubeConfig& config) {
  if (config.clientCertPem.empty() && config.clientKeyPem.empty()) return KeyPair{};
  X509Ptr cert(PEM_read_bio_X509(memoryBio(config.clientCertPem).get(), nullptr, nullptr, nullptr), X509_free);
  KeyPtr key(PEM_read_bio_PrivateKey(memoryBio(config.clientKeyPem).get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!cert || !key) return std::unexpected("the client certificate or key is not PEM");
  return KeyPair{cert, key};
}

std::shared_ptr<http_client> makeClient(const KubeConfig& config, StorePtr trust, KeyPair pair, std::chrono::milliseconds timeout) {
  http_client_config c;
  c.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  c.set_validate_certificates(!config.insecure);
  c.set_ssl_context_callback([trust, pair](boost::asio::ssl::context& context) {
    SSL_CTX_set1_cert_store(context.native_handle(), trust.get());
    if (pair.cert) {
      SSL_CTX_use_certificate(context.native_handle(), pair.cert.get());
      SSL_CTX_use_PrivateKey(context.native_handle(), pair.key.get());
    }
  });
  return std::make_shared<http_client>(config.server, c);
}

KubeError transportError(const std::exception& e) { return KubeError{.status = 0, .reason = "ConnectionFailed", .message = e.what()}; }

}  // namespace

std::string KubeError::str() const {
  if (status == 0) return "connection failed: " + message;
  return std::to_string(status) + " " + reason + ": " + message;
}

KubeError errorFromResponse(int status, std::string_view body) {
  KubeError error{.status = status};
  const Json parsed = Json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.value("kind", "") == "Status") {
    error.reason = parsed.value("reason", "");
    error.message = parsed.value("message", "");
  }
  if (error.message.empty()) error.message = std::string(body.substr(0, 200));
  return error;
}

struct ApiConnection::Clients {
  std::shared_ptr<http_client> calls;
  std::shared_ptr<http_client> watches;  // a watch's response outlives any per-request timeout of calls
};

std::expected<ApiConnectionPtr, std::string> ApiConnection::open(KubeConfig config, std::chrono::milliseconds timeout) {
  auto trust = trustStore(config.caPem);
  if (!trust) return std::unexpected(trust.error());
  auto pair = clientKeyPair(config);
  if (!pair) return std::unexpected(pair.error());
  auto clients = std::make_unique<Clients>();
  try {
    clients->calls = makeClient(config, *trust, *pair, timeout);
    clients->watches = makeClient(config, *trust, *pair, std::chrono::minutes(3));
  } catch (const std::exception& e) {
    return std::unexpected("Kubernetes API server '" + config.server + "': " + e.what());
  }
  return ApiConnectionPtr(new ApiConnection(std::move(config), std::move(clients)));
}

ApiConnection::ApiConnection(KubeConfig config, std::unique_ptr<Clients> clients)
    : config_(std::move(config)), clients_(std::move(clients)), token_(config_) {}

ApiConnection::~ApiConnection() = default;

namespace {

web::http::http_request message(const std::string& method, const std::string& path, BearerToken& token) {
  web::http::http_request m(method);
  m.set_request_uri(path);
  m.headers().add("Accept", "application/json");
  if (auto bearer = token.current(); !bearer.empty()) m.headers().add("Authorization", "Bearer " + bearer);
  return m;
}

}  // namespace

Result<Json> ApiConnection::call(const std::string& method, const std::string& path, const std::optional<Json>& body,
                                 const std::string& contentType) {
  auto m = message(method, path, token_);
  if (body) m.set_body(body->dump(), contentType);
  try {
    auto response = clients_->calls->request(m).get();
    const std::string text = response.extract_utf8string(true).get();
    if (response.status_code() < 200 || response.status_code() > 299) return std::unexpected(errorFromResponse(response.status_code(), text));
    if (text.empty()) return Json();
    Json parsed = Json::parse(text, nullptr, false);
    if (parsed.is_discarded()) return std::unexpected(KubeError{.status = response.status_code(), .reason = "BadResponse", .message = "the answer is not JSON"});
    return parsed;
  } catch (const std::exception& e) {
    return std::unexpected(transportError(e));
  }
}

Result<void> ApiConnection::stream(const std::string& path, const std::function<void(std::string_view)>& onLine,
                                   pplx::cancellation_token cancel) {
  try {
    auto response = clients_->watches->request(message("GET", path, token_), cancel).get();
    if (response.status_code() != 200)
      return std::unexpected(errorFromResponse(response.status_code(), response.extract_utf8string(true).get()));
    auto body = response.body();
    while (!cancel.is_canceled()) {
      concurrency::streams::container_buffer<std::string> line;
      body.read_line(line).get();
      if (!line.collection().empty()) onLine(line.collection());
      if (body.is_eof()) return {};
    }
    return std::unexpected(KubeError{.status = 0, .reason = "Cancelled", .message = "stopped"});
  } catch (const std::exception& e) {
    return std::unexpected(transportError(e));
  }
}

}  // namespace anf::kube
