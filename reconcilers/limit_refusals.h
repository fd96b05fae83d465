#pragma once
// Azure NetApp Files refusing a write for one of its resource limits or quotas ("Resource limits for Azure
// NetApp Files", https://learn.microsoft.com/azure/azure-netapp-files/azure-netapp-files-resource-limits).
// The status keeps Azure's words and appends ". Resolution: " and what cures it, naming the limit as the
// page's table does and saying whether a support request can raise it (the page's third column).
//
// Two families, classified apart (error_classes.h):
//   a quota reached (accounts, pools, volumes, regional capacity; a pool too small for its volumes) waits
//     for Azure to change — a support request raising the quota, another resource deleted or grown — so it
//     is re-observed at resync and never resent in a loop;
//   a size outside the allowed range (pool size, volume size) and a second delegated subnet in a VNet
//     need the document to change.
#include <string>
#include <string_view>
#include <vector>

#include "azure/errors.h"

namespace anf::reconcilers {

struct LimitRefusal {
  std::string_view code;           // Azure's error code (the status reason)
  std::string_view messageMarker;  // when one code stands for two limits: words of Azure's message that tell which
  std::string_view resolution;     // appended after ". Resolution: "
  bool waitsForAzure = false;      // a quota; otherwise the document must change
};

/// The row for Azure's refusal, or nullptr when it is none of the limits.
const LimitRefusal* findLimitRefusal(const azure::AzureError& error);

/// Every code a limit refusal can carry, each once, in a fixed order: the bounded `reason` label of
/// anf_cmk_documents_refused.
const std::vector<std::string_view>& limitRefusalReasons();

}  // namespace anf::reconcilers
