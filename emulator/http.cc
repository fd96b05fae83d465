#include "emulator/http.h"

#include <algorithm>
#include <cctype>

namespace anf::emulator {

std::string percentDecode(const std::string& text, bool plusIsSpace) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::map<std::string, std::string> parseQuery(const std::string& query, bool lowerKeys, bool plusIsSpace) {
  std::map<std::string, std::string> values;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string pair = query.substr(start, end - start);
    if (!pair.empty()) {
      auto equals = pair.find('=');
      std::string key = percentDecode(pair.substr(0, equals), plusIsSpace);
      std::string value = equals == std::string::npos ? "" : percentDecode(pair.substr(equals + 1), plusIsSpace);
      values[lowerKeys ? toLower(key) : key] = value;
    }
    start = end + 1;
  }
  return values;
}

std::string toLower(std::string text) {
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool equalsNoCase(const std::string& a, const std::string& b) { return a.size() == b.size() && toLower(a) == toLower(b); }

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

}  // namespace anf::emulator
