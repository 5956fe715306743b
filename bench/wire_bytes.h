// Bytes on the wire: what the machine's network interfaces carried, from /proc/net/dev. On
// a network store the network is the bus, and a client's traffic over a run, per user
// byte, says what the data path costs it there (ciphertext is as long as plaintext; the
// protocol's framing, acknowledgements and a secure mode's tags are the rest).
#pragma once

#include <cstdint>

namespace ublkcrypt {

// Bytes carried so far: on loopback the bytes sent (each is also counted as received
// there), on every other interface those sent and received. -1 when /proc/net/dev cannot
// be read. Counts whatever else the machine sends meanwhile.
int64_t wire_bytes();

}  // namespace ublkcrypt
