#include "reconcilers/post_action.h"

#include <algorithm>
#include <cctype>

#include "azure/client.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/documents.h"

namespace anf::reconcilers {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kFirstWait{10000};  // the RPC's least Retry-After (azure-api.md §2)
constexpr milliseconds kLongestWait{300000};

std::string lowered(std::string text) {
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string seconds(milliseconds wait) { return std::to_string((wait.count() + 999) / 1000) + " s"; }

std::string waitKey(const azure::ResourceId& account, std::string_view action) {
  return lowered(account.str() + "/" + std::string(action));
}

}  // namespace

milliseconds ActionWaits::remaining(const azure::ResourceId& account, std::string_view action) {
  std::lock_guard lock(mutex_);
  const auto found = waits_.find(waitKey(account, action));
  if (found == waits_.end()) return milliseconds(0);
  const auto left = std::chrono::duration_cast<milliseconds>(found->second.until - std::chrono::steady_clock::now());
  return std::max(milliseconds(0), left);
}

milliseconds ActionWaits::refused(const azure::ResourceId& account, std::string_view action, std::optional<milliseconds> retryAfter) {
  std::lock_guard lock(mutex_);
  Wait& entry = waits_[waitKey(account, action)];
  milliseconds wait = kFirstWait;
  for (int i = 0; i < entry.inARow && wait < kLongestWait; ++i) wait *= 2;
  ++entry.inARow;
  wait = retryAfter.value_or(std::min(wait, kLongestWait));
  entry.until = std::chrono::steady_clock::now() + wait;
  return wait;
}

void ActionWaits::accepted(const azure::ResourceId& account, std::string_view action) {
  std::lock_guard lock(mutex_);
  waits_.erase(waitKey(account, action));
}

std::optional<ReconcileError> accountBusy(const Json& observedAccount, std::string_view action) {
  const std::string state = observedAccount.value("/properties/provisioningState"_json_pointer, std::string("Succeeded"));
  const std::string vaultStatus =
      observedAccount.value("/properties/encryption/keyVaultProperties/status"_json_pointer, std::string());
  std::string shows;
  if (state != "Succeeded" && state != "Failed" && state != "Canceled") shows = "provisioningState " + state;
  else if (vaultStatus == "Updating") shows = "keyVaultProperties.status Updating";
  if (shows.empty()) return std::nullopt;
  return waitingForAzure("AccountOperationInProgress", std::string(action) + " waits: the account shows an operation running (" +
                                                           shows + "); it is observed again before anything is sent",
                         kFirstWait);
}

Result<azure::ArmResult> sendAccountAction(azure::AzureClient& client, const controller::ReconcileContext& context,
                                           ActionWaits& waits, const azure::ResourceId& account, std::string_view action,
                                           Json body) {
  if (const milliseconds wait = waits.remaining(account, action); wait > milliseconds(0))
    return std::unexpected(waitingForAzure("AnotherOperationInProgress",
                                           std::string(action) + " waits: Azure refused it while an operation ran on the account; "
                                                                 "nothing is resent for " + seconds(wait),
                                           wait));
  auto reply = client.post(credentialOf(context.document), account, action, std::move(body)).get();
  forgetObserved(context.cache, account, /*below=*/true);
  if (reply) {
    waits.accepted(account, action);
    return std::move(*reply);
  }
  const azure::AzureError& refusal = reply.error();
  if (refusal.httpStatus != 409 || azure::codeKind(refusal.code) != azure::CodeKind::Busy) return std::unexpected(fromAzure(refusal));
  const milliseconds wait = waits.refused(account, action, refusal.retryAfter);
  const ReconcileError asAzure = fromAzure(refusal);
  ReconcileError error = waitingForAzure(
      asAzure.reason, std::string(action) + " waits for Azure: " + refusal.message +
                          " (the operation may be this very action, sent before the operator's state was lost); the account "
                          "is observed again in " + seconds(wait) + " and nothing is resent before",
      wait);
  error.azure = asAzure.azure;
  error.concurrencyRefused = asAzure.concurrencyRefused;
  return std::unexpected(error);
}

}  // namespace anf::reconcilers
