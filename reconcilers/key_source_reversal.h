#pragma once
// The volume key-source irreversibility rule of the PMK->CMK transition (SPEC §4), for the Volume reconciler.
#include <optional>
#include <string>
#include <string_view>

#include "azure/resource_id.h"
#include "controller/reconciler.h"
#include "reconcilers/arm_calls.h"

namespace anf::reconcilers {

/// For the Volume reconciler: a volume that is Microsoft.KeyVault in Azure and declared anything else
/// (Microsoft.NetApp) is refused (terminal TransitionIrreversible, before sending: Azure cannot go back to PMK).
inline std::optional<controller::ReconcileError> refuseKeySourceReversal(std::string_view document,
                                                                        std::string_view declared,
                                                                        std::string_view observed) {
  if (!azure::equalsIgnoreCase(observed, "Microsoft.KeyVault") || azure::equalsIgnoreCase(declared, "Microsoft.KeyVault"))
    return std::nullopt;
  return refused("TransitionIrreversible",
                 std::string(document) +
                     ": spec.encryptionKeySource: the volume uses customer-managed keys (Microsoft.KeyVault) and cannot "
                     "go back to " + std::string(declared) +
                     "; the PMK to CMK transition is irreversible. Declare encryptionKeySource: Microsoft.KeyVault.");
}

}  // namespace anf::reconcilers
