#pragma once
// The whole daemon wired together, so that `run` and `plan` stay a few lines: given the operator
// configuration, the manifest paths, the reconcilers and the operation poller, Operator starts the
// manifest watcher, the engine, the HTTP servers (metrics, health, status) and the signal handling.
//
//   Operator op(std::move(options));
//   return op.run();                      // until SIGTERM/SIGINT; exit code 0 after a clean drain
//
//   auto plan = planOnce(config, paths, reconcilers, PlanFormat::Text);
//   std::cout << plan.output; return plan.exitCode;
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controller/config.h"
#include "controller/reconciler.h"

namespace prometheus {
class Registry;
}

namespace anf::controller {

class Engine;

struct OperatorOptions {
  OperatorConfig config;
  std::vector<std::string> manifestPaths;  // --manifests
  std::vector<ReconcilerPtr> reconcilers;  // one per kind
  OperationPollFn poll;                    // polls stored long-running operations (azure::LroPoller)
  WriteAdmissionFn writeAdmission;         // asked before each write (EngineOptions::writeAdmission)
  /// Hands the Azure client the leader's write gate, so retries of a write stop with the lease too.
  std::function<void(std::function<bool()>)> gateAzureWrites;
  /// Extra readiness for /readyz: "" when ready, else the reason (e.g. "credential provider: token
  /// request failed"). Called on every probe: keep it cheap (cache the last token result).
  std::function<std::string()> readiness;
  /// The registry the Azure client registers anf_cmk_arm_* and anf_cmk_lro_in_flight on; a fresh
  /// one when null.
  std::shared_ptr<prometheus::Registry> registry;
  /// How long in-flight reconciles may take to finish after SIGTERM.
  std::chrono::milliseconds shutdownGracePeriod = std::chrono::seconds(30);
  /// false: logging is left as it is (tests); true: configured from config.logging.
  bool configureLogging = true;
};

/// The listening ports after start() (the real ones when the configuration asked for port 0).
struct OperatorPorts {
  std::uint16_t metrics = 0;
  std::uint16_t health = 0;
  std::uint16_t status = 0;
};

class Operator {
 public:
  explicit Operator(OperatorOptions options);
  ~Operator();
  Operator(const Operator&) = delete;
  Operator& operator=(const Operator&) = delete;

  /// start(), then wait for SIGTERM/SIGINT (or requestStop()), then shut down. Returns the exit code:
  /// 0 after a clean shutdown, 1 when start() failed (the error is logged and printed to stderr).
  int run();

  /// Starts everything without waiting: state file, engine, servers, manifest watcher, signal handler.
  std::expected<void, std::string> start();
  /// Asks for the shutdown SIGTERM would start; thread-safe.
  void requestStop();
  /// Waits for requestStop() or a signal, then stops intake, lets in-flight reconciles finish up to
  /// the grace period, stops the servers. Returns 0.
  int waitAndShutDown();

  OperatorPorts ports() const;
  /// The running engine (after start()): status, desired state.
  Engine& engine();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

enum class PlanFormat { Text, Json };

struct PlanResult {
  std::string output;  // what to print on stdout
  std::string errors;  // what to print on stderr (manifest errors)
  int exitCode = 0;    // 0 nothing would change, 3 changes pending, 1 error (manifests or blocked)
};

/// `plan`: loads the manifests with the configuration's defaults, observes every document once in
/// dependency order with `reconcilers` (never writes) and renders the plan.
PlanResult planOnce(const OperatorConfig& config, const std::vector<std::string>& manifestPaths,
                    const std::vector<ReconcilerPtr>& reconcilers, PlanFormat format);

}  // namespace anf::controller
