#pragma once
// What every resource provider of the emulator shares: ARM's error envelope with Azure's codes, the
// resource shapes (read-only fields, internal fields, ETags), `If-Match`, list paging, and the small
// string rules ARM applies to ids (case-insensitive) and names.
//
// Convention for stored resources: keys that start with "_" at the top level are the emulator's own
// bookkeeping (registration times, key versions, links between resources). They persist with the
// state but never reach a client: `publicView` strips them.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/provider.h"

namespace anf::emulator::arm {

/// An ARM error before it becomes a response: synchronous (`toResponse`) or the `error` of a failed
/// long-running operation (`toJson`). `detail`, when set, goes to `error.details[0].message` so the
/// documented `message` stays exact.
struct Error {
  int status = 400;
  std::string code;
  std::string message;
  std::string detail;

  Json toJson() const;
  Response toResponse() const;
};

std::string lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
/// "/a/b/c" -> "c"; "" for "".
std::string lastSegment(std::string_view id);
/// The id without its last two segments ("/x/types/name" -> "/x"), i.e. the parent resource.
std::string parentId(std::string_view id);
/// true when `id` equals `scope` or lies below it ("/subscriptions/s" covers ".../resourceGroups/g/...").
bool isAtOrBelow(std::string_view id, std::string_view scope);
/// ARM ids case-insensitively equal (trailing slashes ignored).
bool sameId(std::string_view a, std::string_view b);
/// The subscription id inside an ARM id, or "".
std::string subscriptionOf(std::string_view id);
/// The resource group name inside an ARM id, or "".
std::string resourceGroupOf(std::string_view id);
/// true for a canonical 8-4-4-4-12 hex GUID.
bool isGuid(std::string_view text);

/// The resource without its internal ("_...") top-level keys.
Json publicView(const Json& resource);
/// ARM's systemData for a write by the request's caller at `now`, keeping the creation of `existing` (the Key Vault
/// example getVault shows it): an application caller is named by its appId, createdByType "Application".
Json systemData(const Request& request, const Json* existing, const std::string& now);
/// RFC 7386 JSON merge patch of `patch` onto `target` (null deletes a key).
void mergePatch(Json& target, const Json& patch);
/// The request with null members removed from its body: for PUT and most PATCH bodies, a null field
/// means the same as an absent one, and handlers then read fields without tripping over nulls.
Request withoutNulls(const Request& request);
/// `object[key]` when it is a string, else `fallback`.
std::string stringAt(const Json& object, std::string_view jsonPointer, const std::string& fallback = "");

// ---- Azure's errors ----
/// 404 ResourceNotFound in ARM's words for `id` ("The Resource 'Microsoft.X/y/name' under resource group ...").
Response resourceNotFound(const std::string& resourceType, const std::string& id);
/// 404 ParentResourceNotFound for a child whose parent `parentId` is missing.
Response parentNotFound(const std::string& parentId);
/// 400 InvalidRequestContent / missing required property.
Response badRequest(const std::string& code, const std::string& message, const std::string& target = "");
/// 405 for a method this resource does not have.
Response methodNotAllowed(const Request& request);
/// 400 InvalidResourceName when `name` does not match `pattern` (ECMAScript regex, whole name).
std::optional<Response> checkName(const std::string& name, const std::string& pattern, const std::string& resourceType);
/// 400 LocationRequired when a tracked resource's body has no location.
std::optional<Response> checkLocation(const Json& body);
/// 400 InvalidRequestContent when the body is not a JSON object.
std::optional<Response> checkObjectBody(const Request& request);

// ---- Conditional requests ----
/// 412 PreconditionFailed when `If-Match` names another ETag (or any, and nothing exists), or
/// `If-None-Match: *` meets an existing resource.
std::optional<Response> checkPreconditions(const Request& request, const Json* existing);

// ---- Lists ----
/// The page size used when a request has no `$top` (tests lower it to exercise `nextLink`).
void setDefaultPageSize(std::size_t size);
std::size_t defaultPageSize();
/// 200 {"value": [...], "nextLink"?} for one page of `items` (already public views), using
/// `$skiptoken` (offset) and `$top`. nextLink is absolute: scheme + Host header + path + query.
Response listPage(const Request& request, std::vector<Json> items);

/// 200 with the public view of a stored resource, and its ETag header when it has one.
Response ok(const Json& resource, int status = 200);

/// The stored copy of `id`'s resource typed `type` (case-insensitive), or nullptr.
Json* findTyped(World& world, const std::string& id, std::string_view type);
/// Every stored resource of `type` under `scopeId` (all subscriptions when empty), in creation order.
std::vector<Json*> ofType(World& world, std::string_view type, const std::string& scopeId = "");

}  // namespace anf::emulator::arm
