// The ublk UAPI this project relies on, beyond what the build host's header knows.
//
// Debian 12 ships the 6.1 kernel's <linux/ublk_cmd.h>; the device runs on newer kernels
// (the VM boots 6.12). Everything defined here matches include/uapi/linux/ublk_cmd.h of
// 6.12; each definition is guarded so a newer system header wins.
//
// Opcodes: the legacy (plain number) control and I/O opcodes are used on purpose. They are
// the only ones 6.1 knows, and 6.12 still accepts them (CONFIG_BLKDEV_UBLK_LEGACY_OPCODES=y
// in Debian's config); this is the combination the VM scenarios run (tests/vm/).
// DEL_DEV_ASYNC (6.9+) exists only ioctl-encoded.
#pragma once

#include <linux/ublk_cmd.h>
#include <sys/ioctl.h>

#ifndef UBLK_CMD_GET_DEV_INFO2
#define UBLK_CMD_GET_DEV_INFO2 0x12
#endif
#ifndef UBLK_CMD_DEL_DEV_ASYNC
#define UBLK_CMD_DEL_DEV_ASYNC 0x14
#endif
#ifndef UBLK_U_CMD_DEL_DEV_ASYNC
// Deletes without waiting for the last reference (an opener of a dead disk) to go away.
#define UBLK_U_CMD_DEL_DEV_ASYNC _IOR('u', UBLK_CMD_DEL_DEV_ASYNC, struct ublksrv_ctrl_cmd)
#endif

// User recovery (6.0): a device whose server died keeps its disk and queues the I/O until a
// new server sends START_USER_RECOVERY, fetches every tag and sends END_USER_RECOVERY;
// REISSUE requeues the requests the dead server held instead of failing them.
#ifndef UBLK_F_USER_RECOVERY
#define UBLK_F_USER_RECOVERY (1ULL << 3)
#endif
#ifndef UBLK_F_USER_RECOVERY_REISSUE
#define UBLK_F_USER_RECOVERY_REISSUE (1ULL << 4)
#endif
#ifndef UBLK_CMD_START_USER_RECOVERY
#define UBLK_CMD_START_USER_RECOVERY 0x10
#endif
#ifndef UBLK_CMD_END_USER_RECOVERY
#define UBLK_CMD_END_USER_RECOVERY 0x11
#endif
#ifndef UBLK_S_DEV_QUIESCED
#define UBLK_S_DEV_DEAD 0
#define UBLK_S_DEV_LIVE 1
#define UBLK_S_DEV_QUIESCED 2
#endif

#ifndef UBLK_F_UNPRIVILEGED_DEV
#define UBLK_F_UNPRIVILEGED_DEV (1ULL << 5)
#endif
#ifndef UBLK_F_CMD_IOCTL_ENCODE
#define UBLK_F_CMD_IOCTL_ENCODE (1ULL << 6)
#endif
#ifndef UBLK_F_USER_COPY
#define UBLK_F_USER_COPY (1ULL << 7)
#endif

// The io descriptor area of queue q is mmap'ed from the char device at
// UBLKSRV_CMD_BUF_OFFSET + q * (room for the largest possible queue), rounded to pages.
namespace ublkcrypt {
inline constexpr unsigned kUblkMaxQueueDepth = UBLK_MAX_QUEUE_DEPTH;
}  // namespace ublkcrypt
