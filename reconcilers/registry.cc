#include "reconcilers/registry.h"

#include <condition_variable>
#include <map>
#include <mutex>

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

/// One LIST of a parent stands for the status reads of its children's operations (the volumes of a pool created
/// together): ANF's LIST items carry each child's provisioningState, so a child whose item says Succeeded in a
/// LIST read after its operation started has ended, and the item is the resource Azure made: neither a status
/// read nor a final GET is needed. What a LIST cannot tell (Failed, no item, the LIST failed) the operation's
/// own status says. Thread-safe.
class ListedOperations {
 public:
  explicit ListedOperations(azure::AzureClient& client) : client_(client) {}

  /// The operation's progress from a LIST of its parent, or nullopt when its own status must be read.
  std::optional<azure::PollResult> poll(const azure::OperationState& operation) {
    auto id = azure::ResourceId::parse(operation.resourceId);
    if (!id || !listable(operation, *id)) return std::nullopt;
    const auto items = listAfter(operation, *id->parent(), id->types().back());
    if (!items) return std::nullopt;
    auto item = findByName(*items, id->name());
    if (!item) return std::nullopt;
    const std::string state = item->value("/properties/provisioningState"_json_pointer, std::string());
    if (azure::equalsIgnoreCase(state, "Failed") || azure::equalsIgnoreCase(state, "Canceled")) return std::nullopt;
    azure::PollResult result{.operation = operation};
    if (!azure::equalsIgnoreCase(state, "Succeeded")) {
      result.retryAfter = kInterval;
      return result;
    }
    client_.operationEnded(operation);
    result.state = azure::PollResult::State::Succeeded;
    result.body = std::move(*item);
    return result;
  }

 private:
  struct Read {
    std::chrono::system_clock::time_point startedAt;
    bool done = false;
    std::optional<std::vector<Json>> items;
  };
  static constexpr std::chrono::milliseconds kInterval{1000};  // a LIST is shared for this long, and polled again after it

  /// A PUT or PATCH of a NetApp child resource (a pool in an account, a volume in a pool).
  static bool listable(const azure::OperationState& operation, const azure::ResourceId& id) {
    const bool write = operation.method == "PUT" || operation.method == "PATCH";
    return write && !operation.credential.empty() && operation.kind == azure::OperationKind::AzureAsyncOperation &&
           operation.finalStateVia == azure::FinalStateVia::OriginalUri &&
           azure::equalsIgnoreCase(id.providerNamespace(), "Microsoft.NetApp") && id.types().size() > 1;
  }

  /// The items of a LIST of `parent` that started after `operation` did: the one in flight or less than
  /// kInterval old, or a new one.
  std::optional<std::vector<Json>> listAfter(const azure::OperationState& operation, const azure::ResourceId& parent,
                                             const std::string& childType) {
    const std::string key = parent.key() + "/" + childType;
    std::shared_ptr<Read> read;
    {
      std::unique_lock lock(mutex_);
      const auto now = std::chrono::system_clock::now();
      if (auto it = reads_.find(key); it != reads_.end() && it->second->startedAt >= operation.startedAt &&
                                      now - it->second->startedAt < kInterval) {
        read = it->second;
        readDone_.wait(lock, [&] { return read->done; });
        return read->items;
      }
      read = std::make_shared<Read>(Read{.startedAt = now});
      reads_[key] = read;
    }
    auto listed = client_.list(operation.credential, parent, childType).get();
    std::lock_guard lock(mutex_);
    if (listed) read->items = std::move(*listed);
    read->done = true;
    readDone_.notify_all();
    return read->items;
  }

  azure::AzureClient& client_;
  std::mutex mutex_;
  std::condition_variable readDone_;
  std::map<std::string, std::shared_ptr<Read>> reads_;  // the latest LIST of each parent
};

}  // namespace

controller::OperationPollFn makeOperationPoll(azure::AzureClient& client) {
  auto listed = std::make_shared<ListedOperations>(client);
  return [&client, listed](const Json& stored) {
    using State = controller::OperationProgress::State;
    controller::OperationProgress progress;
    auto operation = azure::OperationState::fromJson(stored);
    if (!operation) {
      progress.state = State::Failed;
      progress.error = refused("InvalidOperationState", "stored operation cannot be resumed: " + operation.error());
      return progress;
    }
    std::optional<azure::PollResult> fromList = listed->poll(*operation);
    azure::PollResult poll = fromList ? std::move(*fromList) : client.pollOperation(*operation).get();
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

controller::WriteAdmissionFn makeWriteAdmission(azure::AzureClient& client) {
  return [&client](const controller::Document& document) {
    if (!document.azure || document.azure->subscriptionId.empty()) return std::chrono::milliseconds::zero();
    return client.admitWrite(document.azure->subscriptionId, document.key.str());
  };
}

}  // namespace anf::reconcilers
