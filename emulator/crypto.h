#pragma once
// The emulator's cryptography (OpenSSL): the loopback CA and server certificate, and RS256 JSON web tokens.
// Nothing here is shared with azure/ (the operator's client).
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace anf::emulator {

std::string base64UrlEncode(std::string_view bytes);
std::optional<std::string> base64UrlDecode(std::string_view text);

/// The CA the emulator generates at start-up (or reloads from --state so clients keep trusting it),
/// and a server certificate it issues for 127.0.0.1, ::1 and localhost (SAN IP and DNS entries).
struct Certificates {
  std::string caCertPem;
  std::string caKeyPem;
  std::string serverCertPem;
  std::string serverKeyPem;
};

/// Creates a new CA unless both PEMs are given, then a fresh server certificate signed by it.
std::expected<Certificates, std::string> makeCertificates(const std::string& caKeyPem = "", const std::string& caCertPem = "");

/// An RSA-2048 key that signs and verifies RS256 JWTs; its public half is published as a JWK.
class JwtSigner {
 public:
  /// A new key, or the one in `privateKeyPem` (persisted across restarts).
  static std::expected<std::unique_ptr<JwtSigner>, std::string> create(const std::string& privateKeyPem = "");
  ~JwtSigner();

  /// header.payload.signature with {"alg":"RS256","typ":"JWT","kid":keyId()}.
  std::string sign(const nlohmann::json& claims) const;
  /// The claims when the signature is valid; time claims are the caller's business.
  std::optional<nlohmann::json> verify(std::string_view token) const;
  /// {"kty":"RSA","use":"sig","alg":"RS256","kid","n","e"}
  nlohmann::json jwk() const;
  const std::string& keyId() const { return keyId_; }
  std::string privateKeyPem() const;

 private:
  struct Key;
  explicit JwtSigner(std::unique_ptr<Key> key);
  std::unique_ptr<Key> key_;
  std::string keyId_;
};
using JwtSignerPtr = std::unique_ptr<JwtSigner>;

/// Verifies an RS256 JWT against a PEM public key (an external workload identity issuer).
std::optional<nlohmann::json> verifyJwtWithPublicKey(std::string_view token, const std::string& publicKeyPem);

/// The claims of a JWT without checking its signature (to find out who claims to have issued it).
std::optional<nlohmann::json> unverifiedJwtClaims(std::string_view token);

}  // namespace anf::emulator
