#include "bench/crypto_sweep.h"

#include <fmt/format.h>

#include "backends/registry.h"

namespace ublkcrypt {

Status check_crypto_sweep(const CryptoSweepOptions& o, std::vector<Provider*>* providers,
                          std::vector<std::string>* skipped) {
  if (o.request_sizes.empty() || o.depths.empty())
    return Status(Errc::invalid_argument, "bench crypto: empty --sizes or --depths");
  auto check_all = [&](Provider& p) {
    for (uint32_t size : o.request_sizes)
      for (unsigned depth : o.depths) {
        CryptoLoadOptions c = o.load;
        c.request_bytes = size;
        c.depth = depth;
        if (Status s = check_crypto_options(p, c); !s.ok()) return s;
      }
    return Status::Ok();
  };
  providers->clear();
  if (o.providers.empty()) {
    for (Provider* p : builtin_registry().providers()) {
      Status s = check_all(*p);
      // A bad size is the user's mistake whichever provider runs: refuse it outright.
      if (s.code() == Errc::invalid_argument) return s;
      if (s.ok()) providers->push_back(p);
      else skipped->push_back(s.message());
    }
  } else {
    for (const std::string& name : o.providers) {
      Provider* p = builtin_registry().find(name);
      if (p == nullptr)
        return Status(Errc::not_found,
                      fmt::format("bench crypto: provider {} is not present in this build", name));
      if (Status s = check_all(*p); !s.ok()) return s;
      providers->push_back(p);
    }
  }
  if (providers->empty())
    return Status(Errc::unsupported, fmt::format("bench crypto: no provider can run {}",
                                                 o.load.cipher));
  return Status::Ok();
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
        if (Status s = run_crypto_load(*p, c, nullptr, &row.result); !s.ok()) return s;
        out->rows.push_back(std::move(row));
      }
  progress.done();
  return Status::Ok();
}

}  // namespace ublkcrypt
