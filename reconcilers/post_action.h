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
// 5 min). ActionWaits keeps it, in the account reconciler: nothing is sent before the wait is over, however often
// the engine wakes the account meanwhile (a dependency Ready, a new snapshot).
// The record of a sent action is the engine's stored operation, kept also in the action journal
// (controller/status_store.h), which outlives a damaged state file.
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "reconcilers/arm_calls.h"  // Json, Result, AzureClient

namespace anf::reconcilers {

/// Azure's refusals in a row of each account's actions, and until when nothing is sent again. Thread-safe.
class ActionWaits {
 public:
  /// How long until `action` may be sent to `account` again (zero: now).
  std::chrono::milliseconds remaining(const azure::ResourceId& account, std::string_view action);
  /// One more refusal: the wait is Azure's Retry-After when given, else 10 s doubling to 5 min; returns it.
  std::chrono::milliseconds refused(const azure::ResourceId& account, std::string_view action,
                                    std::optional<std::chrono::milliseconds> retryAfter);
  /// Azure accepted the action: no wait.
  void accepted(const azure::ResourceId& account, std::string_view action);

 private:
  struct Wait {
    int inARow = 0;
    std::chrono::steady_clock::time_point until;
  };
  std::mutex mutex_;
  std::map<std::string, Wait> waits_;  // by lower-case "{account}/{action}"
};

/// The WaitsForAzure error naming `action` while the observed account shows an operation running (see above);
/// nullopt when it shows none.
std::optional<ReconcileError> accountBusy(const Json& observedAccount, std::string_view action);

/// POST {account}/{action} with `body` (null: none) for one intent the caller observed not done, unless `waits`
/// says to wait still. Azure's refusal for an operation in progress becomes the WaitsForAzure error above (and a
/// wait in `waits`); other failures come back as fromAzure's.
/// The pass's observations below the account are forgotten either way (the action changes them).
Result<azure::ArmResult> sendAccountAction(azure::AzureClient& client, const controller::ReconcileContext& context,
                                           ActionWaits& waits, const azure::ResourceId& account, std::string_view action,
                                           Json body);

}  // namespace anf::reconcilers
