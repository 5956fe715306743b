#include "tools/opal/backing_wrapper.h"

namespace ublkcrypt {
namespace {

WrapBacking& installed_wrapper() {
  static WrapBacking wrap = nullptr;
  return wrap;
}

}  // namespace

BackingWrapperRegistration::BackingWrapperRegistration(WrapBacking wrap) { installed_wrapper() = wrap; }

std::unique_ptr<Storage> wrap_backing(std::unique_ptr<Storage> backing) {
  WrapBacking wrap = installed_wrapper();
  return wrap == nullptr ? std::move(backing) : wrap(std::move(backing));
}

}  // namespace ublkcrypt
