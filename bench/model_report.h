// ModelReport: the placement model's predictions for one set of machine figures, beside
// what was measured on this machine for the placements that are present.
#pragma once

#include <string>
#include <vector>

#include "bench/contention.h"
#include "bench/placement_model.h"

namespace ublkcrypt {

struct ModelMeasurement {
  std::string target;
  std::string provider;
  Placement placement = Placement::host_cpu;
  double predicted_mbs = 0;  // from this cell's own measured inputs
  std::string bottleneck;
  double measured_mbs = 0;   // the encrypted phase
  double error() const {     // measured / predicted - 1
    return predicted_mbs > 0 ? measured_mbs / predicted_mbs - 1 : 0;
  }
};

struct ModelReport {
  MachineFigures figures;  // as given (or from the first measured cell)
  std::vector<PlacementPrediction> predictions;
  std::vector<ModelMeasurement> measured;
};

// Predictions for `figures`; with a contention report, each of its cells predicted from
// its own inputs beside its measured encrypted throughput.
ModelReport build_model_report(const MachineFigures& figures, const ContentionReport* measured);

}  // namespace ublkcrypt
