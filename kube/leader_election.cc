#include "kube/leader_election.h"

#include <spdlog/spdlog.h>

namespace anf::kube {

namespace {

std::int64_t ticks(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

Json leaseJson(const LeaseRecord& r, const std::string& name, const std::string& ns) {
  Json spec{{"holderIdentity", r.holderIdentity}, {"leaseDurationSeconds", r.leaseDurationSeconds},
            {"leaseTransitions", r.leaseTransitions}};
  if (!r.acquireTime.empty()) spec["acquireTime"] = r.acquireTime;
  if (!r.renewTime.empty()) spec["renewTime"] = r.renewTime;
  Json metadata{{"name", name}, {"namespace", ns}};
  if (!r.resourceVersion.empty()) metadata["resourceVersion"] = r.resourceVersion;
  return Json{{"apiVersion", "coordination.k8s.io/v1"}, {"kind", "Lease"}, {"metadata", metadata}, {"spec", spec}};
}

LeaseRecord leaseRecord(const Json& lease) {
  const Json spec = lease.value("spec", Json::object());
  return LeaseRecord{.holderIdentity = spec.value("holderIdentity", ""),
                     .leaseDurationSeconds = spec.value("leaseDurationSeconds", 0),
                     .acquireTime = spec.value("acquireTime", ""),
                     .renewTime = spec.value("renewTime", ""),
                     .leaseTransitions = spec.value("leaseTransitions", 0),
                     .resourceVersion = resourceVersionOf(lease)};
}

class ApiLeaseStore final : public LeaseStore {
 public:
  ApiLeaseStore(KubeClient& client, std::string ns, std::string name) : client_(client), ns_(std::move(ns)), name_(std::move(name)) {}

  Result<std::optional<LeaseRecord>> get() override {
    auto lease = client_.get(leaseType(), ns_, name_);
    if (!lease) {
      if (lease.error().notFound()) return std::optional<LeaseRecord>();
      return std::unexpected(lease.error());
    }
    return std::optional<LeaseRecord>(leaseRecord(*lease));
  }
  Result<LeaseRecord> create(const LeaseRecord& record) override {
    auto lease = client_.create(leaseType(), ns_, leaseJson(record, name_, ns_));
    if (!lease) return std::unexpected(lease.error());
    return leaseRecord(*lease);
  }
  Result<LeaseRecord> update(const LeaseRecord& record) override {
    auto lease = client_.replace(leaseType(), ns_, leaseJson(record, name_, ns_));
    if (!lease) return std::unexpected(lease.error());
    return leaseRecord(*lease);
  }

 private:
  KubeClient& client_;
  std::string ns_;
  std::string name_;
};

}  // namespace

bool LeaseRecord::sameRecord(const LeaseRecord& o) const {
  return holderIdentity == o.holderIdentity && leaseDurationSeconds == o.leaseDurationSeconds &&
         acquireTime == o.acquireTime && renewTime == o.renewTime && leaseTransitions == o.leaseTransitions;
}

LeaseStorePtr makeLeaseStore(KubeClient& client, std::string ns, std::string name) {
  return std::make_unique<ApiLeaseStore>(client, std::move(ns), std::move(name));
}

LeaderElector::LeaderElector(LeaderElectionConfig config, LeaseStore& store, SteadyClock steady, WallClock wall)
    : config_(std::move(config)), store_(store), steady_(std::move(steady)), wall_(std::move(wall)) {}

LeaseRecord LeaderElector::ourRecord(const std::optional<LeaseRecord>& old) const {
  const std::string now = microTime(wall_());
  LeaseRecord record{.holderIdentity = config_.identity,
                     .leaseDurationSeconds = static_cast<int>(config_.leaseDuration.count() / 1000),
                     .acquireTime = now,
                     .renewTime = now};
  if (old) {
    record.resourceVersion = old->resourceVersion;
    record.leaseTransitions = old->leaseTransitions;
    if (old->holderIdentity == config_.identity)
      record.acquireTime = old->acquireTime;
    else
      ++record.leaseTransitions;
  }
  return record;
}

bool LeaderElector::tryAcquireOrRenew() {
  const auto start = steady_();
  auto current = store_.get();
  if (!current) {
    spdlog::warn("leader election: cannot read Lease {}/{}: {}", config_.leaseNamespace, config_.leaseName, current.error().str());
    return false;
  }
  if (!*current) {
    auto created = store_.create(ourRecord(std::nullopt));
    if (!created) return false;  // someone else created it first
    observed_ = *created;
    observedAt_ = lastRenewStart_ = start;
    return true;
  }
  const LeaseRecord& old = **current;
  if (!observed_ || !observed_->sameRecord(old)) observedAt_ = start;
  observed_ = old;
  const bool theirs = !old.holderIdentity.empty() && old.holderIdentity != config_.identity;
  if (theirs && observedAt_ + std::chrono::seconds(old.leaseDurationSeconds) > start) return false;
  auto updated = store_.update(ourRecord(old));
  if (!updated) {
    if (!updated.error().conflict()) spdlog::warn("leader election: cannot update the Lease: {}", updated.error().str());
    return false;
  }
  observed_ = *updated;
  observedAt_ = lastRenewStart_ = start;
  return true;
}

LeaderElector::State LeaderElector::tick() {
  if (state_ == State::Lost) return state_;
  const bool held = tryAcquireOrRenew();
  if (held) {
    state_ = State::Leading;
    writeUntil_ = ticks(lastRenewStart_ + config_.renewDeadline);
  } else if (state_ == State::Leading) {
    const bool taken = observed_ && observed_->holderIdentity != config_.identity;
    if (taken || steady_() - lastRenewStart_ >= config_.renewDeadline) {
      writeUntil_ = 0;
      state_ = State::Lost;
    }
  }
  return state_;
}

bool LeaderElector::mayWrite() const {
  const std::int64_t until = writeUntil_;
  return until != 0 && ticks(steady_()) < until;
}

void LeaderElector::run(const std::function<void()>& onLeading, const std::function<void()>& onLost) {
  State before = State::Candidate;
  std::unique_lock lock(stopMutex_);
  while (!stopping_) {
    lock.unlock();
    const State now = tick();
    lock.lock();
    if (now != before && now == State::Leading) {
      spdlog::info("leader election: {} holds Lease {}/{}", config_.identity, config_.leaseNamespace, config_.leaseName);
      onLeading();
    }
    if (now == State::Lost) {
      spdlog::error("leader election: Lease {}/{} lost; writes stopped", config_.leaseNamespace, config_.leaseName);
      onLost();
      return;
    }
    before = now;
    stopChanged_.wait_for(lock, config_.retryPeriod, [&] { return stopping_; });
  }
  lock.unlock();
  release();
}

void LeaderElector::stop() {
  std::lock_guard lock(stopMutex_);
  stopping_ = true;
  stopChanged_.notify_all();
}

void LeaderElector::release() {
  if (state_ != State::Leading || !observed_ || observed_->holderIdentity != config_.identity) return;
  writeUntil_ = 0;
  LeaseRecord released = *observed_;
  released.holderIdentity.clear();
  released.leaseDurationSeconds = 1;
  released.renewTime = released.acquireTime = microTime(wall_());
  if (auto done = store_.update(released); !done) spdlog::warn("leader election: cannot release the Lease: {}", done.error().str());
  state_ = State::Candidate;
}

}  // namespace anf::kube
