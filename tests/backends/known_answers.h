// Known answers shared by the provider tests and the per-implementation cipher tests:
// IEEE 1619-2007 XTS-AES vectors (Annex B) and dm-crypt-style sectors whose SHA-256 was
// computed outside ublkcrypt (known_answers.sh: the openssl command line for ESSIV,
// python3-cryptography for XTS).
#pragma once

#include <cstdint>
#include <vector>

#include "tests/backends/provider_harness.h"

namespace ublkcrypt::test {

// IEEE 1619-2007 Annex B, vectors 10-14 and 4-5 share these plaintexts: bytes 00..ff twice.
inline std::vector<uint8_t> ieee_plaintext() { return pattern(512, 1, 0); }

inline constexpr const char* kKey4 =  // vector 4: Key1 || Key2, 2 x 128 bits
    "27182818284590452353602874713526"
    "31415926535897932384626433832795";
inline constexpr const char* kCipher4 =
    "27a7479befa1d476489f308cd4cfa6e2a96e4bbe3208ff25287dd3819616e89c"
    "c78cf7f5e543445f8333d8fa7f56000005279fa5d8b5e4ad40e736ddb4d35412"
    "328063fd2aab53e5ea1e0a9f332500a5df9487d07a5c92cc512c8866c7e860ce"
    "93fdf166a24912b422976146ae20ce846bb7dc9ba94a767aaef20c0d61ad0265"
    "5ea92dc4c4e41a8952c651d33174be51a10c421110e6d81588ede82103a252d8"
    "a750e8768defffed9122810aaeb99f9172af82b604dc4b8e51bcb08235a6f434"
    "1332e4ca60482a4ba1a03b3e65008fc5da76b70bf1690db4eae29c5f1badd03c"
    "5ccf2a55d705ddcd86d449511ceb7ec30bf12b1fa35b913f9f747a8afd1b130e"
    "94bff94effd01a91735ca1726acd0b197c4e5b03393697e126826fb6bbde8ecc"
    "1e08298516e2c9ed03ff3c1b7860f6de76d4cecd94c8119855ef5297ca67e9f3"
    "e7ff72b1e99785ca0a7e7720c5b36dc6d72cac9574c8cbbc2f801e23e56fd344"
    "b07f22154beba0f08ce8891e643ed995c94d9a69c9f1b5f499027a78572aeebd"
    "74d20cc39881c213ee770b1010e4bea718846977ae119f7a023ab58cca0ad752"
    "afe656bb3c17256a9f6e9bf19fdd5a38fc82bbe872c5539edb609ef4f79c203e"
    "bb140f2e583cb2ad15b4aa5b655016a8449277dbd477ef2c8d6c017db738b18d"
    "eb4a427d1923ce3ff262735779a418f20a282df920147beabe421ee5319d0568";

inline constexpr const char* kKey10 =  // vectors 10-14: Key1 || Key2, 2 x 256 bits
    "2718281828459045235360287471352662497757247093699959574966967627"
    "3141592653589793238462643383279502884197169399375105820974944592";
inline constexpr const char* kCipher10 =  // data unit sequence number ff
    "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
    "5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd"
    "5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0"
    "c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca"
    "2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0"
    "b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f"
    "93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec"
    "583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a"
    "84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1"
    "505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae"
    "9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29"
    "a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac"
    "6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f"
    "645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385"
    "1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa"
    "773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151";
inline constexpr const char* kCipher14 =  // data unit sequence number ffffffffff: all five IV bytes set
    "64497e5a831e4a932c09be3e5393376daa599548b816031d224bbf50a818ed23"
    "50eae7e96087c8a0db51ad290bd00c1ac1620857635bf246c176ab463be30b80"
    "8da548081ac847b158e1264be25bb0910bbc92647108089415d45fab1b3d2604"
    "e8a8eff1ae4020cfa39936b66827b23f371b92200be90251e6d73c5f86de5fd4"
    "a950781933d79a28272b782a2ec313efdfcc0628f43d744c2dc2ff3dcb66999b"
    "50c7ca895b0c64791eeaa5f29499fb1c026f84ce5b5c72ba1083cddb5ce45434"
    "631665c333b60b11593fb253c5179a2c8db813782a004856a1653011e93fb6d8"
    "76c18366dd8683f53412c0c180f9c848592d593f8609ca736317d356e13e2bff"
    "3a9f59cd9aeb19cd482593d8c46128bb32423b37a9adfb482b99453fbe25a41b"
    "f6feb4aa0bef5ed24bf73c762978025482c13115e4015aac992e5613a3b5c2f6"
    "85b84795cb6e9b2656d8c88157e52c42f978d8634c43d06fea928f2822e465aa"
    "6576e9bf419384506cc3ce3c54ac1a6f67dc66f3b30191e698380bc999b05abc"
    "e19dc0c6dcc2dd001ec535ba18deb2df1a101023108318c75dc98611a09dc48a"
    "0acdec676fabdf222f07e026f059b672b56e5cbc8e1d21bbd867dd927212054"
    "681d70ea737134cdfce93b6f82ae22423274e58a0821cc5502e2d0ab4585e94d"
    "e6975be5e0b4efce51cd3e70c25a1fbbbd609d273ad5b0d59631c531f6a0a57b9";

// One sector encrypted outside ublkcrypt: plaintext byte i = (i*31 + 7) mod 256, key byte
// i = (i*3 + 1) mod 256, and the SHA-256 of the ciphertext.
struct KnownAnswer {
  const char* what;
  const char* cipher;
  uint32_t key_bits, sector_size;
  uint64_t sector, iv_offset;
  const char* sha256;
};
inline constexpr KnownAnswer kKnownAnswers[] = {
    {"essiv 128-bit, 512-byte sector 5", "aes-cbc-essiv:sha256", 128, 512, 5, 0,
     "d1e5df2e5672569244a50e51b56dda922646547a43dd5548c8759df82cd93191"},
    {"essiv 256-bit, 512-byte sector 5", "aes-cbc-essiv:sha256", 256, 512, 5, 0,
     "ec0f25557ff7d1cd2de79117bf4af90f81c76d2fe13e63af06723594c5d880e4"},
    {"essiv 256-bit, 512-byte sector 5, iv_offset 100", "aes-cbc-essiv:sha256", 256, 512, 5,
     100, "171adf6f218a9c5ec15602c32032819732aba5b50d69e68216bf35d57da8a62f"},
    {"essiv 192-bit, 4096-byte sector 3 (IV 24)", "aes-cbc-essiv:sha256", 192, 4096, 3, 0,
     "d6c0b117272b39e371aa2584484fa3bd48475431a5c6a0fca13573d8c3f52ec1"},
    {"xts 512-bit, 4096-byte sector 7 (IV 56)", "aes-xts-plain64", 512, 4096, 7, 0,
     "fc7c89e8733aa0a73b3815bd9a551a6ebc1af3e826b68a31ad1b18e414a3f65e"},
    {"xts 256-bit, 4096-byte sector 7, iv_offset 3 (IV 59)", "aes-xts-plain64", 256, 4096, 7,
     3, "4578ab5189dc7b4528cafefd96be00160351079feee585b58e81ee73876b2ee6"},
    {"xts 512-bit, 1024-byte sector 9 (IV 18)", "aes-xts-plain64", 512, 1024, 9, 0,
     "454ced11e607a8f4751b6796c0ed34dd0f4e7cfa28e7135dc197e7c5a0cf0b14"},
};

}  // namespace ublkcrypt::test
