#pragma once
// The POST actions on a NetApp account (transitiontocmk, changeKeyVault, renewCredentials) are not idempotent:
// each is sent at most once per intent (issue 15). The caller's observation decides that the intent is not done
// in Azure (volumes still PMK, another vault than declared, encryption.identity.principalId stale); this adds what
// Azure shows of an action that runs:
//   - before sending: the account's provisioningState is not terminal, or its keyVaultProperties.status is
//     Updating (azure-api.md §1.1: the NetAppProvisioningState and key vault status values) -> wait, nothing sent;
//   - Azure's 409 AnotherOperationInProgress or RequestConflict: an operation runs on the account, perhaps this
//     very intent, sent before the state file was lost -> wait and observe again; never resent at a fixed delay.
// Waiting is WaitsForAzure, looked at again after Azure's Retry-After when it sent one, else after an interval
// that doubles with each refusal in a row of that action on that account (10 s, the RPC's least Retry-After, to
// 5 min); kept by this process, which sends nothing before the wait is over however often the account is woken.
// The record of a sent action is the engine's stored operation, kept also in the action journal
// (controller/status_store.h), which outlives a damaged state file.
#include <optional>
#include <string_view>

#include "reconcilers/arm_calls.h"  // Json, Result, AzureClient

namespace anf::reconcilers {

/// The WaitsForAzure error naming `action` while the observed account shows an operation running (see above);
/// nullopt when it shows none.
std::optional<ReconcileError> accountBusy(const Json& observedAccount, std::string_view action);

/// POST {account}/{action} with `body` (null: none) for one intent the caller observed not done. Azure's refusal
/// for an operation in progress becomes the WaitsForAzure error above; other failures come back as fromAzure's.
/// The pass's observations below the account are forgotten either way (the action changes them).
Result<azure::ArmResult> sendAccountAction(azure::AzureClient& client, const controller::ReconcileContext& context,
                                           const azure::ResourceId& account, std::string_view action, Json body);

}  // namespace anf::reconcilers
