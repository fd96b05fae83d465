// Microsoft.NetApp: placeholder until the full provider lands.
#include "emulator/providers/arm.h"

namespace anf::emulator {
namespace {
class NetAppProvider final : public ResourceProvider {
 public:
  std::string providerNamespace() const override { return "Microsoft.NetApp"; }
  std::vector<std::string> apiVersions() const override { return {"2022-05-01", "2023-05-01", "2024-01-01-preview", "2025-06-01"}; }
  Response handle(const Request&, const ArmPath&, Context&) override {
    return Response::error(501, "NotImplemented", "Microsoft.NetApp is not implemented yet.");
  }
};
}  // namespace
ResourceProviderPtr makeNetAppProvider() { return std::make_unique<NetAppProvider>(); }
}  // namespace anf::emulator
