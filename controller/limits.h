#pragma once
// What `plan` warns about before sending: a desired state that alone exceeds a default Azure NetApp Files
// limit ("Resource limits for Azure NetApp Files"). Only the documents are counted — resources in Azure that
// no document names are not seen — and only the defaults are known: a support request may have raised any
// of these limits for a subscription, so these are warnings, never a blocked plan.
#include <string>
#include <vector>

#include "controller/document.h"

namespace anf::controller {

/// The limits' defaults, as the page's table gives them.
struct DefaultLimits {
  long accountsPerRegion = 10;
  long poolsPerAccount = 25;
  long volumesPerPool = 500;
  long volumesPerSubscription = 500;
  long regionalCapacityTiB = 25;
};

/// One line per limit exceeded (which documents, the limit's name and default, the code Azure answers).
std::vector<std::string> limitWarnings(const DesiredState& desired, const DefaultLimits& limits = {});

}  // namespace anf::controller
