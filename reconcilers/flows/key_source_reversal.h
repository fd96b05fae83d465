#pragma once
// The volume key-source irreversibility rule of the PMK->CMK transition (SPEC §4), header-only so that the
// Volume reconciler (anf_reconcilers, which anf_reconciler_flows depends on) can use it without a link cycle.
#include <optional>
#include <string>
#include <string_view>

#include "azure/resource_id.h"
#include "controller/reconciler.h"

namespace anf::reconcilers::flows {

/// For the Volume reconciler: a volume that is Microsoft.KeyVault in Azure and declared anything else
/// (Microsoft.NetApp) is refused (terminal TransitionIrreversible, before sending: Azure cannot go back to PMK).
inline std::optional<controller::ReconcileError> refuseKeySourceReversal(std::string_view document,
                                                                        std::string_view declared,
                                                                        std::string_view observed) {
  if (!azure::equalsIgnoreCase(observed, "Microsoft.KeyVault") || azure::equalsIgnoreCase(declared, "Microsoft.KeyVault"))
    return std::nullopt;
  return controller::ReconcileError{
      .reason = "TransitionIrreversible",
      .message = std::string(document) +
                 ": spec.encryptionKeySource: the volume uses customer-managed keys (Microsoft.KeyVault) and cannot go "
                 "back to " + std::string(declared) +
                 "; the PMK to CMK transition is irreversible. Declare encryptionKeySource: Microsoft.KeyVault.",
      .errorClass = controller::ErrorClass::NeedsDocumentChange};
}

}  // namespace anf::reconcilers::flows
