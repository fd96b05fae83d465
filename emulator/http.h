#pragma once
// Plain HTTP messages between the Beast server (server.cc) and the emulator's service (service.h), so that
// Beast and Asio stay inside server.cc.
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace anf::emulator {

struct HttpRequest {
  std::string method;                          // "GET"
  std::string target;                          // path and query as sent
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::map<std::string, std::string> headers;  // "Content-Type" is set from the body when absent
  std::string body;
  /// Fault injection: wait this long before answering (the server waits on a timer, not a thread).
  std::chrono::milliseconds delay{0};
  /// Fault injection: close the connection without answering.
  bool drop = false;
};

/// Percent-decodes a URL component; `plusIsSpace` for application/x-www-form-urlencoded bodies.
std::string percentDecode(const std::string& text, bool plusIsSpace = false);

/// "a=1&b=two" -> {a: "1", b: "two"}; keys lower-cased when `lowerKeys`.
std::map<std::string, std::string> parseQuery(const std::string& query, bool lowerKeys, bool plusIsSpace = false);

/// Lower-case ASCII.
std::string toLower(std::string text);

/// The non-empty segments of a URL path: "/a//b/" -> {"a", "b"}.
std::vector<std::string> splitPath(const std::string& path);

/// Case-insensitive ASCII equality.
bool equalsNoCase(const std::string& a, const std::string& b);

}  // namespace anf::emulator
