// The server and the kernel's OOM killer.
//
// The server is the only path between a mounted filesystem and its data: killed, every
// write it holds and every later request fails with EIO and the filesystem above goes
// read-only or worse — the damage dm-crypt's kernel threads, which the OOM killer never
// picks, cannot cause. Its memory is bounded and locked (the queue buffers, the key
// schedules: base/key_process.h's mlockall), so killing it frees little and loses much. So
// it opts out entirely (-1000, OOM_SCORE_ADJ_MIN), as the daemons that hold other storage
// paths do (multipathd, iscsid); the kernel then picks a process whose death loses no data.
#pragma once

#include <string>

namespace ublkcrypt {

// Sets this process's oom_score_adj to -1000. Empty on success, else a note for the log
// (lowering it needs CAP_SYS_RESOURCE; the server serves anyway).
std::string keep_from_oom_killer();

}  // namespace ublkcrypt
