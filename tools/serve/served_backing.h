// claim_volume_backing: the claim (backing_claim.h) a verb takes on a volume's backing by the
// user's name for it, so that what a ublkcrypt server on this host serves is never served
// twice, formatted or reencrypted underneath it.
//
// A path is claimed itself. An rbd image has no file to hold: its claim is a lock file named
// after the image in the run directory, which every ublkcrypt verb on this host that takes
// the image meets. (Clients on other hosts do not: as with krbd and rbd-nbd, mapping an
// image on two hosts at once is the admin's to prevent.)
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "tools/serve/backing_claim.h"

namespace ublkcrypt {

// Errc::busy when held; when a ublkcrypt server on this host holds it, other than the
// volume `own_name` (a server taking over its own), the message names that volume: "DEVICE:
// in use, held by ublkcrypt volume NAME (pid N)". not_found when the path is missing.
Status claim_volume_backing(const std::string& device, bool read_only, const std::string& own_name,
                            std::unique_ptr<BackingClaim>* out);

}  // namespace ublkcrypt
