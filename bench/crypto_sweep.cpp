#include "bench/crypto_sweep.h"

#include <fmt/format.h>

namespace ublkcrypt {

Status check_crypto_sweep(const CryptoSweepOptions& o, std::vector<Provider*>* providers,
                          std::vector<std::string>* skipped) {
  if (o.request_sizes.empty() || o.depths.empty())
    return Status(Errc::invalid_argument, "bench crypto: empty --sizes or --depths");
  auto check_all = [&](const Provider& p) {
    for (uint32_t size : o.request_sizes)
      for (unsigned depth : o.depths) {
        CryptoLoadOptions c = o.load;
        c.request_bytes = size;
        c.depth = depth;
        if (Status s = check_crypto_options(p, c); !s.ok()) return s;
      }
    return Status::Ok();
  };
  return select_providers("bench crypto", o.providers, o.load.cipher, check_all, providers,
                          skipped);
}

Status run_crypto_sweep(const CryptoSweepOptions& o, ProgressDisplay& progress,
                        CryptoSweepReport* out) {
  std::vector<Provider*> providers;
  out->skipped.clear();
  if (Status s = check_crypto_sweep(o, &providers, &out->skipped); !s.ok()) return s;
  out->options = o;
  out->rows.clear();
  for (Provider* p : providers)
    for (unsigned depth : o.depths)
      for (uint32_t size : o.request_sizes) {
        CryptoSweepRow row;
        row.provider = p->info().name;
        row.placement = p->info().placement;
        row.request_bytes = size;
        row.depth = depth;
        CryptoLoadOptions c = o.load;
        c.request_bytes = size;
        c.depth = depth;
        progress.phase(fmt::format("{}: {} B x {} in flight", row.provider, size, depth),
                       c.seconds);
        if (Status s = run_crypto_load(*p, c, &row.result); !s.ok()) return s;
        out->rows.push_back(std::move(row));
      }
  progress.done();
  return Status::Ok();
}

}  // namespace ublkcrypt
