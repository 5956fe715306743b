// Wiping what a VAES kernel leaves behind: the stack it used, spills included, and its
// vector registers.
//
// The kernels keep tweaks, IVs and staged lines in stack arrays, and the compiler also
// spills registers to stack slots no source line names: data blocks, CBC chain values, AES
// states. GCC 12 does so in the AVX2 kernels (eight ymm chains and their gathers outgrow the
// 16 ymm registers), and at -O0 (the ASan build) every kernel keeps its vectors on the
// stack. Such slots outlive the call until something else overwrites them. So each kernel
// runs in a frame of its own that reports the deepest stack address it reached
// (deepest_stack_address, read at its end), and its caller wipes from there up to its own
// stack pointer once that frame has returned: the whole dead frame, arrays and spills alike,
// with 32-byte vector stores over a few KiB per call. The kernels call nothing, so nothing
// of theirs lies deeper than their frame and the red zone: a call to a libc function from
// inside one (explicit_bzero, before this wipe replaced it) went through lazy symbol
// binding the first time, which saves every vector register, round keys included, on the
// stack below the caller's frame.
//
// The vector registers are zeroed too: they still hold round keys and data when the kernel
// returns, and the next code that saves registers writes them to memory.
//
// Not covered: a signal delivered while a kernel runs makes the OS save the registers in a
// signal frame below the stack pointer, which stays there after the handler returns.
//
// x86-64 only, like the kernels.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ublkcrypt::vaes {

// Below the deepest address a frame reports: the red zone a leaf may use below its stack
// pointer (128 bytes in the x86-64 ABI), with room to spare.
constexpr size_t kStackWipeMargin = 256;

// The stack pointer of the calling frame: read at the end of a noinline kernel frame, it is
// the lowest address that frame's own slots occupy.
__attribute__((always_inline)) inline uintptr_t deepest_stack_address() {
  uintptr_t sp;
  asm volatile("mov %%rsp, %0" : "=r"(sp));
  return sp;
}

// Zeroes the dead stack from `deepest` - kStackWipeMargin up to the caller's stack pointer.
// Call it right after the frame that reported `deepest` returned; it writes only below the
// caller's stack pointer, memory no live frame owns. In assembly, so that no compiler can
// drop the stores as dead, and so that the wipe itself needs no stack. 32-byte stores, the
// last one ending exactly at the stack pointer (it may overlap its predecessor; the span
// is never shorter than the margin), not a `rep stosb` over the same 1-2 KiB: that is
// microcoded and does not overlap with the kernel's last rounds, which a one-sector XTS call
// pays for.
// Call it from code built for AVX; it clobbers ymm0, which wipe_vector_registers zeroes
// after it anyway.
__attribute__((always_inline)) inline void wipe_dead_stack(uintptr_t deepest) {
  uintptr_t from = deepest - kStackWipeMargin;
  uintptr_t last;
  asm volatile(
      "vpxor %%xmm0, %%xmm0, %%xmm0\n\t"
      "mov %%rsp, %1\n\t"
      "sub $32, %1\n\t"
      "1:\n\t"
      "vmovdqu %%ymm0, (%0)\n\t"
      "add $32, %0\n\t"
      "cmp %1, %0\n\t"
      "jb 1b\n\t"
      "vmovdqu %%ymm0, (%1)"
      : "+r"(from), "=&r"(last)
      :
      : "xmm0", "memory", "cc");
}

// Zeroes ymm0-15 (VZEROALL) and, with `kZmm`, zmm16-31, which only AVX-512 code touches.
// Call it from code built for AVX (and AVX-512 for kZmm).
template <bool kZmm>
__attribute__((always_inline)) inline void wipe_vector_registers() {
  if constexpr (kZmm) {
    asm volatile(
        "vpxord %%zmm16, %%zmm16, %%zmm16\n\tvpxord %%zmm17, %%zmm17, %%zmm17\n\t"
        "vpxord %%zmm18, %%zmm18, %%zmm18\n\tvpxord %%zmm19, %%zmm19, %%zmm19\n\t"
        "vpxord %%zmm20, %%zmm20, %%zmm20\n\tvpxord %%zmm21, %%zmm21, %%zmm21\n\t"
        "vpxord %%zmm22, %%zmm22, %%zmm22\n\tvpxord %%zmm23, %%zmm23, %%zmm23\n\t"
        "vpxord %%zmm24, %%zmm24, %%zmm24\n\tvpxord %%zmm25, %%zmm25, %%zmm25\n\t"
        "vpxord %%zmm26, %%zmm26, %%zmm26\n\tvpxord %%zmm27, %%zmm27, %%zmm27\n\t"
        "vpxord %%zmm28, %%zmm28, %%zmm28\n\tvpxord %%zmm29, %%zmm29, %%zmm29\n\t"
        "vpxord %%zmm30, %%zmm30, %%zmm30\n\tvpxord %%zmm31, %%zmm31, %%zmm31" ::
            : "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24",
              "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
  }
  asm volatile("vzeroall" ::
                   : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                     "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

}  // namespace ublkcrypt::vaes
