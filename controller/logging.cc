#include "controller/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

namespace anf::controller {

namespace {

thread_local const DocumentKey* currentDocument = nullptr;

void appendEscaped(std::string_view text, spdlog::memory_buf_t& dest) {
  const std::string escaped = Json(std::string(text)).dump();  // quoted and escaped
  dest.append(escaped.data() + 1, escaped.data() + escaped.size() - 1);
}

/// %* : the current document, as JSON fields ("kind":"Volume","name":"v1",) or text ("Volume/v1: ").
class DocumentFlag : public spdlog::custom_flag_formatter {
 public:
  explicit DocumentFlag(bool json) : json_(json) {}
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    if (currentDocument == nullptr) return;
    const std::string kind(kindName(currentDocument->kind));
    std::string out = json_ ? "\"kind\":\"" + kind + "\",\"name\":" + Json(currentDocument->name).dump() + ","
                            : kind + "/" + currentDocument->name + ": ";
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<DocumentFlag>(json_); }

 private:
  bool json_;
};

/// %& : the message, JSON-escaped.
class EscapedMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    appendEscaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<EscapedMessageFlag>(); }
};

}  // namespace

std::expected<LogFormat, std::string> parseLogFormat(std::string_view text) {
  if (text == "json") return LogFormat::Json;
  if (text == "text") return LogFormat::Text;
  return std::unexpected("log format must be json or text, not '" + std::string(text) + "'");
}

std::expected<void, std::string> configureLogging(LogFormat format, std::string_view level) {
  const auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off")
    return std::unexpected("log level must be trace, debug, info, warn, error or off, not '" + std::string(level) + "'");
  const bool json = format == LogFormat::Json;
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<DocumentFlag>('*', json).add_flag<EscapedMessageFlag>('&');
  formatter->set_pattern(json ? R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%*"msg":"%&"})"
                              : "%Y-%m-%dT%H:%M:%S.%eZ %l %*%v");
  spdlog::set_formatter(std::move(formatter));
  spdlog::set_level(lvl);
  return {};
}

LogScope::LogScope(const DocumentKey& key) : previous_(currentDocument) { currentDocument = &key; }

LogScope::~LogScope() { currentDocument = previous_; }

}  // namespace anf::controller
