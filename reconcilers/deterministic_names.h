#pragma once
// Names of Azure role definitions and assignments derived from what they mean, so that a crash
// between "create" and "record in status" followed by a retry PUTs the same name again (idempotent)
// instead of creating a duplicate.
#include <string>
#include <string_view>
#include <vector>

namespace anf::reconcilers {

/// RFC 4122 name-based UUID, version 5 (SHA-1), in the given namespace UUID; lowercase, 8-4-4-4-12.
std::string uuidV5(std::string_view namespaceUuid, std::string_view name);

/// The namespace of every name this operator derives (a fixed v4 UUID).
inline constexpr std::string_view kOperatorNamespace = "5e0b6c1a-3f7d-4b8e-9a52-7c1d2e4f6a80";

/// The role assignment name for `principalId` holding `roleDefinitionId` at `scope`. ARM ids are
/// case-insensitive, so inputs are lowercased first.
std::string roleAssignmentName(std::string_view scope, std::string_view principalId, std::string_view roleDefinitionId);

/// The custom role definition name (GUID) for `roleName` assignable at `scope`.
std::string roleDefinitionName(std::string_view scope, std::string_view roleName);

}  // namespace anf::reconcilers
