#include "reconcilers/registry.h"

#include "azure/client.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/netapp_account.h"

namespace anf::reconcilers {

std::vector<controller::ReconcilerPtr> makeReconcilers(azure::AzureClient& client, ReconcilerOptions options) {
  std::vector<controller::ReconcilerPtr> reconcilers;
  reconcilers.push_back(makeUserAssignedIdentityReconciler(client));
  reconcilers.push_back(makeNetAppAccountReconciler(client));
  reconcilers.push_back(makePrivateEndpointReconciler(client));
  reconcilers.push_back(makeCapacityPoolReconciler(client));
  reconcilers.push_back(makeVolumeReconciler(client));
  reconcilers.push_back(makeCrossTenantApplicationReconciler(client, std::move(options.crossTenant)));
  return reconcilers;
}

namespace {

/// What an ended operation showed of Azure, for the pass's cache (registry.h).
void recordOperationEnd(controller::ObservationCache& cache, const azure::OperationState& operation, bool succeeded,
                        const Json& result) {
  auto id = azure::ResourceId::parse(operation.resourceId);
  if (!id) return cache.invalidatePrefix("");
  const bool changesBelow = azure::equalsIgnoreCase(operation.action, "changeKeyVault") ||
                            azure::equalsIgnoreCase(operation.action, "transitiontocmk");
  if (!succeeded || operation.method == "POST") return forgetObserved(cache, *id, changesBelow);
  if (operation.method == "DELETE") return recordGone(cache, *id);
  recordResource(cache, *id, result);
}

}  // namespace

controller::OperationPollFn makeOperationPoll(azure::AzureClient& client) {
  return [&client](const Json& stored) {
    using State = controller::OperationProgress::State;
    controller::OperationProgress progress;
    auto operation = azure::OperationState::fromJson(stored);
    if (!operation) {
      progress.state = State::Failed;
      progress.error = refused("InvalidOperationState", "stored operation cannot be resumed: " + operation.error());
      return progress;
    }
    azure::PollResult poll = client.pollOperation(*operation).get();
    switch (poll.state) {
      case azure::PollResult::State::InProgress:
        progress.state = State::InProgress;
        progress.retryAfter = poll.retryAfter;
        progress.operation = poll.operation.toJson();
        for (std::string_view fact : {kRetryOnFailure, kAfterGrant})
          if (stored.value(std::string(fact), false)) progress.operation[std::string(fact)] = true;
        break;
      case azure::PollResult::State::Succeeded: progress.state = State::Succeeded; break;
      case azure::PollResult::State::Failed:
        progress.state = State::Failed;
        progress.error = poll.error ? fromAzure(*poll.error, {.grantPropagating = stored.value(std::string(kAfterGrant), false),
                                                              .awaitingAzure = stored.value(std::string(kRetryOnFailure), false)})
                                    : refused("OperationFailed", "the operation failed");
        break;
    }
    if (progress.state != State::InProgress)
      progress.observed = [operation = *operation, succeeded = progress.state == State::Succeeded,
                           result = std::move(poll.body)](controller::ObservationCache& cache) {
        recordOperationEnd(cache, operation, succeeded, result);
      };
    return progress;
  };
}

}  // namespace anf::reconcilers
