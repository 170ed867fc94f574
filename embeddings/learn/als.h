// Weighted ALS for implicit feedback (Hu, Koren & Volinsky 2008) with
// content priors: minimises
//   sum over trained users u and trained items i of c_ui (p_ui - x_u . y_i)^2
//   + sum over rows r of lambda_r * |f_r - prior_r|^2
// where a row with a prior is pulled toward it with prior_regularization and
// a row without one toward 0 with regularization. A row is trained when it
// has at least one cell in the FeedbackMatrix; a row without any keeps its
// prior (state kPrior) or has no factor (kNone): nobody has seen it, so the
// "unobserved means not wanted" cells of ALS do not apply to it.
//
// Each sweep solves every user against the items, then every item against
// the users, sharing one Gramian (Y^T Y, X^T X) per sweep. Rows are solved
// in parallel; each row's result depends only on the data, the options and
// the seed, so the model is the same whatever the thread count or schedule.
//
// Thread safety: TrainAls may run concurrently with itself on different
// inputs. Its callback runs on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "embeddings/learn/interactions.h"
#include "embeddings/status.h"

namespace bf::learn {

enum class Solver : uint8_t {
  kConjugateGradient,  // a few CG steps per row, warm-started (implicit's method)
  kCholesky,           // the exact solve per row (LLT)
};

struct AlsOptions {
  // --- Affect the model ---
  int dim = 64;                      // factors per row: the database dimension, 1..4096
  int iterations = 15;               // sweeps (users then items), >= 1
  float regularization = 0.1f;       // weight toward 0 of rows without a prior, > 0
  float prior_regularization = 1.0f; // weight toward the prior of rows with one, > 0
  ConfidenceOptions confidence;
  uint64_t seed = 1;                 // initial factors of rows without a prior
  float init_stddev = 0.01f;         // their scale, >= 0

  // --- Affect speed and precision ---
  Solver solver = Solver::kConjugateGradient;
  int cg_steps = 3;                  // per row and sweep, >= 1
  int threads = 0;                   // 0: std::thread::hardware_concurrency()
};

// Invalid naming the setting that is out of range.
Status CheckAlsOptions(const AlsOptions& options);

enum class RowState : uint8_t {
  kNone = 0,     // no events and no prior: no factor (the row is zero)
  kPrior = 1,    // no events: the factor is the prior
  kTrained = 2,  // solved from events
};

// rows x dim factors, row-major.
struct Factors {
  int dim = 0;
  int32_t rows = 0;
  std::vector<float> values;    // rows * dim
  std::vector<RowState> state;  // rows

  std::span<const float> Row(int32_t r) const {
    return {values.data() + static_cast<size_t>(r) * dim, static_cast<size_t>(dim)};
  }
  std::span<float> Row(int32_t r) {
    return {values.data() + static_cast<size_t>(r) * dim, static_cast<size_t>(dim)};
  }
};

// Given vectors of some rows, the priors. Empty values means no priors.
struct Priors {
  std::vector<float> values;     // rows * dim; only present rows are read
  std::vector<uint8_t> present;  // rows; 1 when the row has a prior
};

struct AlsModel {
  Factors users;
  Factors items;
  // dim x dim, Y^T Y over the trained items: the Gramian fold-in needs.
  std::vector<float> item_gramian;
  int iterations = 0;
  double loss = 0;         // the objective after the last sweep
  int64_t failed_solves = 0;  // rows kept at their previous value (non-finite solve)
};

struct IterationReport {
  int iteration = 0;       // 1-based
  double loss = 0;         // the objective after this sweep
  double seconds = 0;      // this sweep, loss included
};
using IterationCallback = std::function<void(const IterationReport&)>;

// Trains on m. Priors may be empty; else values has m.users (m.items) * dim
// floats and present m.users (m.items) flags. Errors (Invalid): the options
// fail CheckAlsOptions; a priors array of the wrong size; a prior with a NaN
// or infinite value ("item prior 3 is not finite"); no cells ("no
// interactions to train on"). on_iteration, when set, is called after each
// sweep.
Result<AlsModel> TrainAls(const FeedbackMatrix& m, const Priors& user_priors,
                          const Priors& item_priors, const AlsOptions& options,
                          const IterationCallback& on_iteration = nullptr);

// Y^T Y (dim x dim, row-major) over the rows of f in state kTrained: what
// FoldIn takes after the item factors were replaced or loaded.
std::vector<float> TrainedGramian(const Factors& f, int threads = 0);

}  // namespace bf::learn
