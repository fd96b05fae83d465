#pragma once
// The two error tables of the ANF customer-managed keys page (reference/anf-customer-managed-keys.md,
// "Error messages and troubleshooting"), word for word, plus the two conditions the page states as
// requirements rather than table rows (trusted-services bypass, supported regions).
//
// Status messages are the documented error text verbatim, then ". Resolution: " and the documented
// resolution verbatim. Whether the text comes from our own key vault checks or from Azure's response,
// the user sees the same line.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/reconciler.h"

namespace anf::reconcilers {

/// One documented condition.
struct DocumentedError {
  std::string_view reason;         // stable CamelCase code for status
  std::string_view text;           // the error text exactly as the page (and Azure) writes it
  std::string_view resolution;     // the documented resolution, markup removed
  std::string_view conditionType;  // condition set False besides Ready ("KeyVaultValid" or "")
};

/// Separator between the documented text and its resolution in status messages.
inline constexpr std::string_view kResolutionSeparator = ". Resolution: ";

// Account table ("Errors configuring customer-managed key encryption on a NetApp account").
extern const DocumentedError kKeyVaultKeyNotFound;
extern const DocumentedError kKeyVaultKeyNotRsa;
extern const DocumentedError kKeyVaultKeyDisabled;
extern const DocumentedError kKeyVaultKeyExpired;
extern const DocumentedError kKeyVaultKeyNotActive;
extern const DocumentedError kKeyVaultUriInvalid;
extern const DocumentedError kKeyVaultNotRecoverable;
extern const DocumentedError kKeyVaultRegionMismatch;
// Volume table ("Errors creating a volume encrypted with customer-managed keys").
extern const DocumentedError kAccountNotConfiguredForCmk;
extern const DocumentedError kEncryptionKeySourceChange;
extern const DocumentedError kEncryptionKeyUnusable;
extern const DocumentedError kKeyVaultUnreachable;
// Requirements stated in the page's prose (Considerations, Supported regions).
extern const DocumentedError kKeyVaultPublicAccessBlocked;
extern const DocumentedError kRegionNotSupported;

/// Every table row, account table first, in the page's order (not the prose requirements).
const std::vector<const DocumentedError*>& documentedTableRows();

/// The ReconcileError for a documented condition one of our checks found: message = text + separator +
/// resolution; classified by error_classes.h. `detail`, when given, is appended in parentheses to the
/// text (e.g. the region name) — only for the prose requirements and for what a check adds (which
/// key, which endpoint), never inside a table row's text, which stays exact.
controller::ReconcileError toReconcileError(const DocumentedError& error, std::string_view detail = {});

/// `text` (Azure's message verbatim, its final period dropped) + separator + the row's resolution.
std::string withResolution(std::string_view text, const DocumentedError& row);
/// `text` (its final period dropped) + separator + `resolution`: the same line for any refusal we explain.
std::string withResolution(std::string_view text, std::string_view resolution);

/// The documented row whose text Azure's error message contains (case-sensitive, as Azure sends
/// it), or nullptr. Used to turn an Azure error response into the documented status line.
const DocumentedError* findDocumentedError(std::string_view azureMessage);

/// The Azure regions (ARM location names, "eastus") where the page lists CMK as supported.
const std::vector<std::string>& cmkSupportedRegions();
/// true when `location` (ARM name or display name, any case, spaces ignored) is a supported region.
bool isCmkSupportedRegion(std::string_view location);

}  // namespace anf::reconcilers
