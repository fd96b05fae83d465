#pragma once
// The text form of an HTTP message the fuzz targets read (so that seeds are readable and mutate well):
// a first line, then "name: value" lines up to an empty one, then the body.
#include <cctype>
#include <map>
#include <string>
#include <string_view>

namespace anf::fuzz {

struct HttpText {
  std::string firstLine;
  std::map<std::string, std::string> headers;  // names lower-cased; lines without ':' skipped
  std::string body;
};

inline HttpText parseHttpText(std::string_view text) {
  auto line = [&text] {
    auto end = text.find('\n');
    auto result = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    return result;
  };
  HttpText message{.firstLine = std::string(line())};
  for (auto header = line(); !header.empty(); header = line()) {
    auto colon = header.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(header.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto value = header.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    message.headers[name] = std::string(value);
  }
  message.body = std::string(text);
  return message;
}

}  // namespace anf::fuzz
