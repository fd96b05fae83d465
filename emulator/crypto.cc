#include "emulator/crypto.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace anf::emulator {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string privateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return bioText(bio.get());
}

std::string certificateToPem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(bio.get(), certificate);
  return bioText(bio.get());
}

PkeyPtr privateKeyFromPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
}

X509Ptr certificateFromPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
}

bool addExtension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) return false;
  bool added = X509_add_ext(certificate, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return added;
}

X509Ptr newCertificate(EVP_PKEY* key, const char* commonName, long validDays) {
  X509Ptr certificate(X509_new(), X509_free);
  X509_set_version(certificate.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate.get()));
  BN_free(number);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), validDays * 24 * 3600);
  X509_set_pubkey(certificate.get(), key);
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("anf-cmk-operator emulator"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(commonName), -1, -1, 0);
  return certificate;
}

std::string bignumParam(EVP_PKEY* key, const char* param) {
  BIGNUM* number = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &number) != 1) return "";
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(number)), '\0');
  BN_bn2bin(number, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(number);
  return bytes;
}

std::optional<nlohmann::json> verifyWith(EVP_PKEY* key, std::string_view token) {
  auto firstDot = token.find('.');
  auto secondDot = token.find('.', firstDot == std::string_view::npos ? 0 : firstDot + 1);
  if (firstDot == std::string_view::npos || secondDot == std::string_view::npos) return std::nullopt;
  auto header = base64UrlDecode(token.substr(0, firstDot));
  auto payload = base64UrlDecode(token.substr(firstDot + 1, secondDot - firstDot - 1));
  auto signature = base64UrlDecode(token.substr(secondDot + 1));
  if (!header || !payload || !signature) return std::nullopt;
  auto headerJson = nlohmann::json::parse(*header, nullptr, false);
  if (!headerJson.is_object() || headerJson.value("alg", "") != "RS256") return std::nullopt;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string_view signedPart = token.substr(0, secondDot);
  if (EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
                       reinterpret_cast<const unsigned char*>(signedPart.data()), signedPart.size()) != 1) {
    return std::nullopt;
  }
  auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (!claims.is_object()) return std::nullopt;
  return claims;
}

}  // namespace

std::string base64UrlEncode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    else if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    else if (c >= '0' && c <= '9') value = c - '0' + 52;
    else if (c == '-' || c == '+') value = 62;
    else if (c == '_' || c == '/') value = 63;
    else if (c == '=') break;
    else return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

std::expected<Certificates, std::string> makeCertificates(const std::string& caKeyPem, const std::string& caCertPem) {
  Certificates result;
  PkeyPtr caKey(nullptr, EVP_PKEY_free);
  X509Ptr caCert(nullptr, X509_free);
  if (!caKeyPem.empty() && !caCertPem.empty()) {
    caKey = privateKeyFromPem(caKeyPem);
    caCert = certificateFromPem(caCertPem);
    if (!caKey || !caCert) return std::unexpected("the persisted CA key or certificate cannot be read");
  } else {
    caKey = PkeyPtr(EVP_EC_gen("P-256"), EVP_PKEY_free);
    if (!caKey) return std::unexpected("cannot generate the CA key");
    caCert = newCertificate(caKey.get(), "anf-cmk-operator emulator CA", 3650);
    X509_set_issuer_name(caCert.get(), X509_get_subject_name(caCert.get()));
    if (!addExtension(caCert.get(), caCert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
        !addExtension(caCert.get(), caCert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !addExtension(caCert.get(), caCert.get(), NID_subject_key_identifier, "hash") ||
        X509_sign(caCert.get(), caKey.get(), EVP_sha256()) == 0) {
      return std::unexpected("cannot create the CA certificate");
    }
  }
  PkeyPtr serverKey(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!serverKey) return std::unexpected("cannot generate the server key");
  X509Ptr serverCert = newCertificate(serverKey.get(), "localhost", 365);
  X509_set_issuer_name(serverCert.get(), X509_get_subject_name(caCert.get()));
  if (!addExtension(serverCert.get(), caCert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !addExtension(serverCert.get(), caCert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      !addExtension(serverCert.get(), caCert.get(), NID_ext_key_usage, "serverAuth") ||
      !addExtension(serverCert.get(), caCert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") ||
      !addExtension(serverCert.get(), caCert.get(), NID_subject_key_identifier, "hash") ||
      !addExtension(serverCert.get(), caCert.get(), NID_authority_key_identifier, "keyid:always") ||
      X509_sign(serverCert.get(), caKey.get(), EVP_sha256()) == 0) {
    return std::unexpected("cannot create the server certificate");
  }
  result.caCertPem = certificateToPem(caCert.get());
  result.caKeyPem = privateKeyToPem(caKey.get());
  result.serverCertPem = certificateToPem(serverCert.get());
  result.serverKeyPem = privateKeyToPem(serverKey.get());
  return result;
}

struct JwtSigner::Key {
  PkeyPtr pkey{nullptr, EVP_PKEY_free};
};

JwtSigner::JwtSigner(std::unique_ptr<Key> key) : key_(std::move(key)) {
  // The key id is the base64url SHA-256 of the modulus: stable for a persisted key.
  std::string modulus = bignumParam(key_->pkey.get(), OSSL_PKEY_PARAM_RSA_N);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(modulus.data()), modulus.size(), digest);
  keyId_ = base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), 20));
}

JwtSigner::~JwtSigner() = default;

std::expected<std::unique_ptr<JwtSigner>, std::string> JwtSigner::create(const std::string& privateKeyPem) {
  auto key = std::make_unique<Key>();
  key->pkey = privateKeyPem.empty() ? PkeyPtr(EVP_RSA_gen(2048), EVP_PKEY_free) : privateKeyFromPem(privateKeyPem);
  if (!key->pkey || EVP_PKEY_get_base_id(key->pkey.get()) != EVP_PKEY_RSA) {
    return std::unexpected("cannot create or read the token signing key");
  }
  return std::unique_ptr<JwtSigner>(new JwtSigner(std::move(key)));
}

std::string JwtSigner::sign(const nlohmann::json& claims) const {
  nlohmann::json header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", keyId_}};
  std::string signingInput = base64UrlEncode(header.dump()) + "." + base64UrlEncode(claims.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t size = 0;
  EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key_->pkey.get());
  EVP_DigestSign(context.get(), nullptr, &size, reinterpret_cast<const unsigned char*>(signingInput.data()), signingInput.size());
  std::string signature(size, '\0');
  EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                 reinterpret_cast<const unsigned char*>(signingInput.data()), signingInput.size());
  signature.resize(size);
  return signingInput + "." + base64UrlEncode(signature);
}

std::optional<nlohmann::json> JwtSigner::verify(std::string_view token) const { return verifyWith(key_->pkey.get(), token); }

nlohmann::json JwtSigner::jwk() const {
  return {{"kty", "RSA"},
          {"use", "sig"},
          {"alg", "RS256"},
          {"kid", keyId_},
          {"n", base64UrlEncode(bignumParam(key_->pkey.get(), OSSL_PKEY_PARAM_RSA_N))},
          {"e", base64UrlEncode(bignumParam(key_->pkey.get(), OSSL_PKEY_PARAM_RSA_E))}};
}

std::string JwtSigner::privateKeyPem() const { return privateKeyToPem(key_->pkey.get()); }

std::optional<nlohmann::json> verifyJwtWithPublicKey(std::string_view token, const std::string& publicKeyPem) {
  BioPtr bio(BIO_new_mem_buf(publicKeyPem.data(), static_cast<int>(publicKeyPem.size())), BIO_free);
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) return std::nullopt;
  return verifyWith(key.get(), token);
}

std::optional<nlohmann::json> unverifiedJwtClaims(std::string_view token) {
  auto firstDot = token.find('.');
  if (firstDot == std::string_view::npos) return std::nullopt;
  auto secondDot = token.find('.', firstDot + 1);
  if (secondDot == std::string_view::npos) return std::nullopt;
  auto payload = base64UrlDecode(token.substr(firstDot + 1, secondDot - firstDot - 1));
  if (!payload) return std::nullopt;
  auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (!claims.is_object()) return std::nullopt;
  return claims;
}

}  // namespace anf::emulator
