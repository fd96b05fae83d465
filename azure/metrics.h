#pragma once
// The client's Prometheus metrics (SPEC §6), registered on the engine's registry. Without a registry
// every call is a no-op. Label values are bounded: methods, ARM resource type strings, status codes.
#include <chrono>
#include <memory>
#include <string>

namespace prometheus {
class Registry;
}

namespace anf::azure {

class ClientMetrics {
 public:
  explicit ClientMetrics(prometheus::Registry* registry);
  ~ClientMetrics();
  /// One HTTP attempt: code is the status ("200") or the transport failure ("Timeout").
  void request(const std::string& method, const std::string& resourceType, const std::string& code,
               std::chrono::duration<double> duration);
  void throttled();
  void setLroInFlight(double count);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anf::azure
