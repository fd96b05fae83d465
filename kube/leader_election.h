#pragma once
// Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm (tools/leaderelection):
// - tryAcquireOrRenew: read the Lease (create it when missing); a record that changed since last read
//   restarts the local observation clock; while another holder's record was observed less than its
//   leaseDurationSeconds ago, it is theirs; otherwise (expired, empty holder, or ours) write our record
//   (renewTime now; acquireTime and leaseTransitions + 1 when the holder changes) as an update that the
//   API refuses when the Lease changed meanwhile (resourceVersion), so two replicas never both win.
// - a candidate retries every retryPeriod; the leader renews every retryPeriod and gives up when it has
//   not renewed for renewDeadline.
// Safety beyond client-go's: mayWrite() is false once renewDeadline has passed since the *start* of the last
// successful renew, whatever the loop is doing. Others count leaseDuration from when they *observed* that
// renew, which is later, and renewDeadline < leaseDuration: a deposed leader stops writing at least
// leaseDuration - renewDeadline before anyone else can take the Lease.
// Time comes from an injected steady clock, so the decisions are tested without waiting.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "kube/client.h"

namespace anf::kube {

using Millis = std::chrono::milliseconds;

/// Durations as client-go requires them (leaseDuration > renewDeadline > 1.2 x retryPeriod > 0; the operator
/// configuration checks them, controller/config.cc).
struct LeaderElectionConfig {
  std::string leaseName = "anf-cmk-operator";
  std::string leaseNamespace;
  std::string identity;  // unique per replica: pod name + a random suffix
  Millis leaseDuration{15000};
  Millis renewDeadline{10000};
  Millis retryPeriod{2000};
};

/// Lease.spec, plus the resourceVersion the record was read at.
struct LeaseRecord {
  std::string holderIdentity;
  int leaseDurationSeconds = 0;
  std::string acquireTime;  // MicroTime
  std::string renewTime;
  int leaseTransitions = 0;
  std::string resourceVersion;
  /// The record without its resourceVersion (what client-go compares to see a change).
  bool sameRecord(const LeaseRecord& other) const;
};

/// Reads and writes one Lease. Errors are the API's (409 when the resourceVersion is stale).
class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  /// nullopt when the Lease does not exist.
  virtual Result<std::optional<LeaseRecord>> get() = 0;
  virtual Result<LeaseRecord> create(const LeaseRecord& record) = 0;
  /// Refused (409) unless record.resourceVersion is the stored one.
  virtual Result<LeaseRecord> update(const LeaseRecord& record) = 0;
};
using LeaseStorePtr = std::unique_ptr<LeaseStore>;

/// The Lease `name` in `ns` through `client`.
LeaseStorePtr makeLeaseStore(KubeClient& client, std::string ns, std::string name);

class LeaderElector {
 public:
  using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;
  using WallClock = std::function<std::chrono::system_clock::time_point()>;
  enum class State { Candidate, Leading, Lost };

  LeaderElector(LeaderElectionConfig config, LeaseStore& store, SteadyClock steady = std::chrono::steady_clock::now,
                WallClock wall = std::chrono::system_clock::now);

  /// One attempt (what the loop does every retryPeriod): acquire or renew, and for a leader whether it must
  /// give up (Lost: not renewed for renewDeadline, or another holder took the Lease). Lost is final.
  State tick();
  /// True while this replica may write: leading, and its last successful renew started less than
  /// renewDeadline ago. Thread-safe; cheap (called before each write).
  bool mayWrite() const;
  /// Runs ticks every retryPeriod until stop(): `onLeading` once the Lease is ours, `onLost` once it is lost
  /// (then returns). Blocking: run it on its own thread.
  void run(const std::function<void()>& onLeading, const std::function<void()>& onLost);
  /// Ends run(); a leader releases the Lease (holder emptied, client-go's ReleaseOnCancel) so another
  /// replica need not wait for it to expire.
  void stop();
  const LeaderElectionConfig& config() const { return config_; }

 private:
  bool tryAcquireOrRenew();
  void release();
  LeaseRecord ourRecord(const std::optional<LeaseRecord>& old) const;

  LeaderElectionConfig config_;
  LeaseStore& store_;
  SteadyClock steady_;
  WallClock wall_;
  State state_ = State::Candidate;
  std::optional<LeaseRecord> observed_;
  std::chrono::steady_clock::time_point observedAt_{};
  std::chrono::steady_clock::time_point lastRenewStart_{};
  std::atomic<std::int64_t> writeUntil_{0};  // steady ticks (ns) after which writes stop; 0: not leading
  std::mutex stopMutex_;
  std::condition_variable stopChanged_;
  bool stopping_ = false;
};

}  // namespace anf::kube
