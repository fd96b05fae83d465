#pragma once
// Logging set-up for the daemon: spdlog as JSON lines or text, UTC timestamps, and the document being
// reconciled on every line. Engine workers open a LogScope around each reconcile, so whatever a
// reconciler logs through spdlog carries the document's kind and name without passing it around.
#include <expected>
#include <string>
#include <string_view>

#include "controller/document.h"

namespace anf::controller {

enum class LogFormat { Json, Text };

/// "json" or "text".
std::expected<LogFormat, std::string> parseLogFormat(std::string_view text);

/// Sets the default spdlog logger's pattern and level ("trace".."error", "off"). JSON lines look like
/// {"time":"2026-11-23T09:00:51.123Z","level":"info","kind":"Volume","name":"vol1","msg":"created"}.
std::expected<void, std::string> configureLogging(LogFormat format, std::string_view level);

/// While alive, log lines of this thread name `key` (kind and name fields, or "Kind/name: " in text).
class LogScope {
 public:
  explicit LogScope(const DocumentKey& key);
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

 private:
  const DocumentKey* previous_;
};

}  // namespace anf::controller
