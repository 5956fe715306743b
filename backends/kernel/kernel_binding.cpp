#include "backends/kernel/kernel_binding.h"

#include <algorithm>
#include <fmt/format.h>

namespace ublkcrypt {

static constexpr std::string_view kEssiv = "essiv(cbc(aes),sha256)";
static constexpr std::string_view kCbc = "cbc(aes)";

std::string kernel_algorithm_for(const CipherSpec& spec) {
  switch (spec.mode) {
    case CipherMode::aes_xts_plain64: return "xts(aes)";
    case CipherMode::aes_cbc_essiv_sha256: return std::string(kEssiv);
    case CipherMode::null: return {};
    case CipherMode::generic:
      // The kernel's essiv template computes ESSIV for any block cipher and hash; every
      // other IV ublkcrypt computes and hands over with each sector (sector_iv.h).
      if (spec.dm.iv == IvMode::essiv)
        return fmt::format("essiv({},{})", spec.dm.algorithm, spec.dm.iv_option);
      return spec.dm.algorithm;
  }
  return {};
}

// Algorithm names that can serve `spec`: the template instance, and for ESSIV the bare
// CBC that ublkcrypt completes with its own IVs.
static bool serves(const CipherSpec& spec, std::string_view algorithm) {
  if (algorithm == kernel_algorithm_for(spec)) return true;
  return spec.mode == CipherMode::aes_cbc_essiv_sha256 && algorithm == kCbc;
}

// A template expression whose outer template fits `spec`: xts(...) for XTS; essiv(...) or
// cbc(...) for ESSIV; the outer template of the algorithm for the others.
static bool is_template_over(const CipherSpec& spec, std::string_view variant) {
  if (!variant.ends_with(")")) return false;
  if (spec.mode == CipherMode::aes_cbc_essiv_sha256)
    return variant.starts_with("essiv(") || variant.starts_with("cbc(");
  const std::string algorithm = kernel_algorithm_for(spec);
  const size_t open = algorithm.find('(');
  return open != std::string::npos && variant.starts_with(algorithm.substr(0, open + 1));
}

// ublkcrypt computes the IV itself only for aes-cbc-essiv:sha256 over a bare CBC; a
// generic spec on cbc(aes) (aes-cbc-plain64) has its own generator.
static bool completes_essiv(const CipherSpec& spec, bool bare_cbc) {
  return bare_cbc && spec.mode == CipherMode::aes_cbc_essiv_sha256;
}

static bool reachable(const KernelAlgorithm& a) {
  return a.type == "skcipher" && !a.internal;
}

std::vector<const KernelAlgorithm*> kernel_candidates(
    const CipherSpec& spec, const std::vector<KernelAlgorithm>& algorithms) {
  std::vector<const KernelAlgorithm*> out;
  for (const KernelAlgorithm& a : algorithms)
    if (reachable(a) && serves(spec, a.name)) out.push_back(&a);
  std::stable_sort(out.begin(), out.end(), [](const auto* a, const auto* b) {
    return a->priority > b->priority;
  });
  return out;
}

static std::string candidate_list(const CipherSpec& spec,
                                  const std::vector<KernelAlgorithm>& algorithms) {
  std::string names = spec.mode == CipherMode::aes_cbc_essiv_sha256
                          ? fmt::format("{} or {}", kCbc, kEssiv)
                          : kernel_algorithm_for(spec);
  std::string drivers;
  for (const KernelAlgorithm* a : kernel_candidates(spec, algorithms))
    drivers += (drivers.empty() ? "" : ", ") + a->driver;
  return fmt::format("candidates for {}: {}", names, drivers.empty() ? "none loaded" : drivers);
}

Status resolve_kernel_binding(const CipherSpec& spec, std::string_view variant,
                              const std::vector<KernelAlgorithm>& algorithms,
                              KernelBinding* out) {
  const std::string who = variant.empty() ? "kernel" : fmt::format("kernel:{}", variant);
  const std::string algorithm = kernel_algorithm_for(spec);
  if (algorithm.empty())
    return Status(Errc::unsupported,
                  fmt::format("{}: cipher {} is not run through the kernel crypto API "
                              "(use --backend software)", who, spec.name()));

  KernelBinding binding;
  if (variant.empty() || serves(spec, variant)) {
    // An algorithm name: the kernel binds its highest-priority driver. Name that driver
    // when it is already instantiated, for status and byte accounting.
    binding.salg_name = variant.empty() ? algorithm : std::string(variant);
    binding.userspace_essiv = completes_essiv(spec, binding.salg_name == kCbc);
    for (const KernelAlgorithm* a : kernel_candidates(spec, algorithms)) {
      if (a->name != binding.salg_name) continue;
      binding.driver = a->driver;
      binding.card = a->is_card();
      break;
    }
    *out = std::move(binding);
    return Status::Ok();
  }

  const KernelAlgorithm* match = nullptr;
  for (const KernelAlgorithm& a : algorithms)
    if (a.driver == variant && reachable(a)) match = &a;
  if (match == nullptr && is_template_over(spec, variant)) {
    // "xts(ecb(aes-generic))": a template over a named driver. The kernel instantiates it
    // at bind time, so it cannot be in /proc/crypto before.
    binding.salg_name = std::string(variant);
    binding.driver = std::string(variant);
    binding.userspace_essiv = completes_essiv(spec, variant.starts_with("cbc("));
    binding.card = KernelAlgorithm{.name = {}, .driver = std::string(variant)}.is_card();
    *out = std::move(binding);
    return Status::Ok();
  }
  if (match == nullptr)
    return Status(Errc::not_found, fmt::format("{}: no such driver in /proc/crypto ({})", who,
                                               candidate_list(spec, algorithms)));
  if (!serves(spec, match->name))
    return Status(Errc::unsupported,
                  fmt::format("{}: driver implements {}, not what {} needs ({})", who,
                              match->name, spec.name(), candidate_list(spec, algorithms)));
  binding.salg_name = match->driver;
  binding.driver = match->driver;
  binding.userspace_essiv = completes_essiv(spec, match->name == kCbc);
  binding.card = match->is_card();
  *out = std::move(binding);
  return Status::Ok();
}

}  // namespace ublkcrypt
