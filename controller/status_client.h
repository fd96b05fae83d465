#pragma once
// The client side of the status API, for the `status` subcommand: fetch, and render the table
// `KIND NAME READY REASON AGE MESSAGE` the way kubectl prints resources.
#include <chrono>
#include <expected>
#include <string>

#include "controller/document.h"

namespace anf::controller {

/// GET /api/v1/resources, /api/v1/resources/{kind} or /api/v1/resources/{kind}/{name} from the
/// daemon's status server at `address` ("host:port"). Always returns a list {"items": [...], ...}.
/// Errors are one line for the user: unreachable daemon, unknown resource.
std::expected<Json, std::string> fetchStatus(const std::string& address, const std::string& kind = {},
                                              const std::string& name = {});

/// "45s", "12m", "5h", "3d" (kubectl's short ages).
std::string shortAge(std::chrono::seconds age);

/// The table of a status list. READY is the Ready condition's status; REASON and MESSAGE come from
/// Synced when it is False (the last reconcile failed), else from Ready; a False one's MESSAGE ends with
/// Azure's HTTP status, code and x-ms-request-id when status has an azureError. Operator-level conditions
/// that are not True follow the table as "operator: Type=False Reason: message" lines.
std::string formatStatusTable(const Json& list, std::chrono::system_clock::time_point now);

}  // namespace anf::controller
