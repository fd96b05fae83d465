#pragma once
// "Did you mean" suggestions for unknown flags, fields, kinds and enum values.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anf::controller {

/// Levenshtein distance between two strings (case-sensitive).
std::size_t editDistance(std::string_view a, std::string_view b);

/// The candidate closest to `word`, when it is close enough to be a plausible typo
/// (distance at most max(2, len/3)); case-insensitive equality always matches.
std::optional<std::string> closestMatch(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace anf::controller
