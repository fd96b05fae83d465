#include "azure/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace anf::azure {

struct ClientMetrics::Impl {
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& duration;
  prometheus::Counter& throttled;
  prometheus::Gauge& lroInFlight;
};

ClientMetrics::ClientMetrics(prometheus::Registry* registry) {
  if (!registry) return;
  auto& requests = prometheus::BuildCounter()
                       .Name("anf_cmk_arm_requests_total")
                       .Help("HTTP requests to Azure (ARM and Graph) by method, resource type and status code")
                       .Register(*registry);
  auto& duration = prometheus::BuildHistogram()
                       .Name("anf_cmk_arm_request_duration_seconds")
                       .Help("Duration of HTTP requests to Azure, per attempt")
                       .Register(*registry);
  auto& throttled = prometheus::BuildCounter()
                        .Name("anf_cmk_arm_throttled_total")
                        .Help("Requests Azure answered with 429 Too Many Requests")
                        .Register(*registry)
                        .Add({});
  auto& lro = prometheus::BuildGauge()
                  .Name("anf_cmk_lro_in_flight")
                  .Help("Long-running operations being polled")
                  .Register(*registry)
                  .Add({});
  impl_ = std::make_unique<Impl>(Impl{requests, duration, throttled, lro});
}

ClientMetrics::~ClientMetrics() = default;

void ClientMetrics::request(const std::string& method, const std::string& resourceType, const std::string& code,
                            std::chrono::duration<double> duration) {
  if (!impl_) return;
  impl_->requests.Add({{"method", method}, {"resource_type", resourceType}, {"code", code}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  impl_->duration.Add({{"method", method}}, kBuckets).Observe(duration.count());
}

void ClientMetrics::throttled() {
  if (impl_) impl_->throttled.Increment();
}

void ClientMetrics::setLroInFlight(double count) {
  if (impl_) impl_->lroInFlight.Set(count);
}

}  // namespace anf::azure
