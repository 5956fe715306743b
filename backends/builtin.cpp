// The providers compiled into ublkcrypt. Adding a backend: add its folder and one line here.
#include "backends/fault/fault_injecting_provider.h"
#include "backends/kernel/kernel_provider.h"
#include "backends/opal/inline_provider.h"
#include "backends/registry.h"
#include "backends/software/software_provider.h"

namespace ublkcrypt {

Registry& builtin_registry() {
  static Registry* registry = [] {
    auto* r = new Registry;
    r->add(make_software_provider());
    r->add(make_kernel_provider());
    r->add(make_opal_inline_provider());
    if (auto fault = make_fault_provider_from_env()) r->add(std::move(fault));  // tests only
    return r;
  }();
  return *registry;
}

}  // namespace ublkcrypt
