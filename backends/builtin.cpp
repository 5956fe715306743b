// The providers compiled into ublkcrypt. Adding a backend: add its folder and one line here.
#include <vector>

#include "backends/dpdk/dpdk_provider.h"
#include "backends/kernel/kernel_provider.h"
#include "backends/opal/inline_provider.h"
#include "backends/registry.h"
#include "backends/software/software_provider.h"

namespace ublkcrypt {
namespace {

using MakeProvider = std::unique_ptr<Provider> (*)();

std::vector<MakeProvider>& test_providers() {
  static std::vector<MakeProvider> makers;
  return makers;
}

}  // namespace

TestProviderRegistration::TestProviderRegistration(MakeProvider make) { test_providers().push_back(make); }

Registry& builtin_registry() {
  static Registry* registry = [] {
    auto* r = new Registry;
    r->add(make_software_provider());
    r->add(make_kernel_provider());
    r->add(make_dpdk_provider());
    r->add(make_opal_inline_provider());
    for (MakeProvider make : test_providers()) {
      if (auto provider = make()) r->add(std::move(provider));
    }
    return r;
  }();
  return *registry;
}

}  // namespace ublkcrypt
