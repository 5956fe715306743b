#include "tools/opal/drive_image.h"

namespace ublkcrypt {
namespace {

DriveImageOpener& installed_opener() {
  static DriveImageOpener opener = nullptr;
  return opener;
}

}  // namespace

DriveImageRegistration::DriveImageRegistration(DriveImageOpener opener) { installed_opener() = opener; }

Status open_drive_image(std::string_view path, std::shared_ptr<DriveImage>* out) {
  if (!is_drive_image_path(path)) {
    return Status(Errc::invalid_argument, std::string(path) + ": not an emulated drive path (emu:FILE)");
  }
  DriveImageOpener opener = installed_opener();
  if (opener == nullptr) {
    return Status(Errc::unsupported, std::string(path) +
                                         ": emulated drives are test machinery, only in the test build (ublkcrypt-test)");
  }
  return opener(path, out);
}

}  // namespace ublkcrypt
