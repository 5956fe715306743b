#include "bench/model_report.h"

namespace ublkcrypt {

ModelReport build_model_report(const MachineFigures& figures, const ContentionReport* measured) {
  ModelReport r;
  r.figures = figures;
  r.predictions = predict_all(figures);
  if (measured != nullptr)
    for (const ContentionCell& c : measured->cells)
      r.measured.push_back({c.target, c.provider, c.placement, c.prediction.ceiling_mbs,
                            c.prediction.bottleneck, c.encrypted.mbs()});
  return r;
}

}  // namespace ublkcrypt
