// The service manager's readiness protocol (sd_notify(3)), without libsystemd: when
// NOTIFY_SOCKET names a unix datagram socket, "READY=1" sent there tells systemd that a
// Type=notify service (dist/systemd/ublkcrypt@.service) is up — here, that the disk exists.
#pragma once

namespace ublkcrypt {

// Quiet no-op outside a notify service.
void notify_service_ready();

}  // namespace ublkcrypt
