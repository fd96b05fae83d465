#pragma once
// Keeps secrets out of logs: redact() (declared in client.h) removes anything shaped like a token or
// secret; Redactor additionally removes the exact secrets this process has read (client secrets,
// federated assertions, access tokens, IDENTITY_HEADER), whatever their shape.
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace anf::azure {

class Redactor {
 public:
  /// Remembers a secret value (ignored when shorter than 6 characters, to keep logs readable).
  void add(std::string_view secret);
  /// redact(text) plus every remembered secret replaced by "[REDACTED]".
  std::string apply(std::string_view text) const;

 private:
  mutable std::mutex mutex_;
  std::set<std::string> secrets_;
};

}  // namespace anf::azure
