#include "reconcilers/key_vault_uri.h"

#include <algorithm>
#include <cctype>

namespace anf::reconcilers {

namespace {

std::string canonicalUri(std::string uri) {
  std::ranges::transform(uri, uri.begin(), [](unsigned char c) { return std::tolower(c); });
  while (!uri.empty() && uri.back() == '/') uri.pop_back();
  if (uri.ends_with(":443")) uri.resize(uri.size() - 4);
  return uri;
}

}  // namespace

bool sameVaultUri(const std::string& a, const std::string& b) { return canonicalUri(a) == canonicalUri(b); }

}  // namespace anf::reconcilers
