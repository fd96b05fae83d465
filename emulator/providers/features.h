#pragma once
// Microsoft.Features preview-feature registration, shared by the Features provider (which serves it)
// and the NetApp provider (which requires ANFCrossTenantCMK and ANFMigratePmkToCmk).
//
// A registration is stored at /subscriptions/{s}/providers/Microsoft.Features/providers/{ns}/features/{name}
// with the emulator-clock time it was asked for ("_registeredAt"); its state is computed when read:
// Registering until world.featureRegistrationDelay has passed, then Registered. Unregistering is immediate.
#include <string>

#include "emulator/provider.h"

namespace anf::emulator::features {

/// "NotRegistered", "Registering", "Registered" or "Unregistered".
std::string state(World& world, const std::string& subscriptionId, const std::string& providerNamespace,
                  const std::string& featureName);
inline bool isRegistered(World& world, const std::string& subscriptionId, const std::string& providerNamespace,
                         const std::string& featureName) {
  return state(world, subscriptionId, providerNamespace, featureName) == "Registered";
}
/// Records a registration now (idempotent while Registering/Registered).
void registerFeature(World& world, const std::string& subscriptionId, const std::string& providerNamespace,
                     const std::string& featureName);

}  // namespace anf::emulator::features
