// guarded_copy: memcpy that survives SIGBUS. A shared file mapping raises SIGBUS when a
// page can no longer be backed (the file shrank under us, tmpfs ran out of room for a
// hole); inside guarded_copy that ends the copy and returns false, so the caller can
// take the system-call path, which reports the same condition as an error code.
#pragma once

#include <cstddef>

namespace ublkcrypt {

// True if all `bytes` were copied; false if a SIGBUS stopped the copy part-way (`dst`
// then holds an unspecified mix). A SIGBUS outside any guarded copy goes to the handler
// that was installed before (by default: the process dies, as it would have).
bool guarded_copy(void* dst, const void* src, size_t bytes);

}  // namespace ublkcrypt
