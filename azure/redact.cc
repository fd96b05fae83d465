#include "azure/redact.h"

#include <regex>

#include "azure/client.h"

namespace anf::azure {
namespace {

struct Rule {
  std::regex pattern;
  const char* replacement;
};

const std::vector<Rule>& rules() {
  static const std::vector<Rule> table = [] {
    auto icase = std::regex::ECMAScript | std::regex::icase;
    std::vector<Rule> r;
    // JWTs (access tokens, federated assertions): header.payload.signature, base64url.
    r.push_back({std::regex(R"(eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*)"), "[REDACTED]"});
    r.push_back({std::regex(R"(\b(Bearer|Basic)\s+[^\s"',;]+)", icase), "$1 [REDACTED]"});
    // JSON fields and form fields that hold secrets.
    r.push_back({std::regex(
                     R"re("(access_token|refresh_token|id_token|client_secret|client_assertion|clientSecret|secretText|password|secret)"\s*:\s*"[^"]*")re",
                     icase),
                 R"("$1":"[REDACTED]")"});
    r.push_back({std::regex(R"(\b(access_token|refresh_token|id_token|client_secret|client_assertion)=[^&\s"]*)", icase),
                 "$1=[REDACTED]"});
    // Header dumps.
    r.push_back({std::regex(R"(\b(authorization|x-identity-header|proxy-authorization)(["']?\s*[:=]\s*["']?)[^\r\n"',}]*)",
                            icase),
                 "$1$2[REDACTED]"});
    return r;
  }();
  return table;
}

void replaceAll(std::string& text, const std::string& what) {
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 10))
    text.replace(pos, what.size(), "[REDACTED]");
}

}  // namespace

std::string redact(std::string_view text) {
  std::string out(text);
  for (const auto& rule : rules()) out = std::regex_replace(out, rule.pattern, rule.replacement);
  return out;
}

void Redactor::add(std::string_view secret) {
  if (secret.size() < 6) return;
  std::lock_guard lock(mutex_);
  if (secrets_.size() > 1024) secrets_.erase(secrets_.begin());
  secrets_.emplace(secret);
}

std::string Redactor::apply(std::string_view text) const {
  std::string out(text);
  {
    std::lock_guard lock(mutex_);
    for (const auto& secret : secrets_) replaceAll(out, secret);
  }
  return redact(out);
}

}  // namespace anf::azure
