#include "tools/eval/tune.h"

#include <cstdio>
#include <map>

namespace bf::eval {

learn::AlsOptions WithWeights(learn::AlsOptions o, float like, float view) {
  auto& w = o.confidence.weight;
  w[static_cast<int>(learn::EventKind::kView)] = view;
  w[static_cast<int>(learn::EventKind::kLike)] = like;
  w[static_cast<int>(learn::EventKind::kSave)] = 1.25f * like;
  w[static_cast<int>(learn::EventKind::kShare)] = 1.25f * like;
  w[static_cast<int>(learn::EventKind::kComment)] = 0.75f * like;
  return o;
}

std::string Describe(const Setting& s) {
  const auto& w = s.als.confidence.weight;
  char prior[48] = "";
  if (s.priors) std::snprintf(prior, sizeof prior, " prior_reg %g", s.als.prior_regularization);
  char buf[256];
  std::snprintf(buf, sizeof buf, "like %g view %g reg %g%s iterations %d metric %s",
                w[static_cast<int>(learn::EventKind::kLike)],
                w[static_cast<int>(learn::EventKind::kView)], s.als.regularization, prior,
                s.als.iterations, MetricName(s.metric));
  return buf;
}

Result<learn::AlsModel> TrainModel(const Dataset& d, std::span<const learn::Interaction> train,
                                   const Setting& s) {
  auto m = learn::BuildFeedbackMatrix(d.users(), d.items(), train, s.als.confidence);
  if (!m.ok()) return m.status();
  static const learn::Priors kNone;
  return learn::TrainAls(*m, s.priors ? d.user_vectors : kNone,
                         s.priors ? d.item_vectors : kNone, s.als);
}

const Trial& Best(const std::vector<Trial>& trials) {
  size_t best = 0;
  for (size_t n = 1; n < trials.size(); ++n) {
    if (trials[n].metrics.recall > trials[best].metrics.recall) best = n;
  }
  return trials[best];
}

Result<std::vector<Trial>> Tune(const Dataset& d, const Split& validation, const Setting& start,
                                const TuneSpace& space, const EvalSetup& setup,
                                const std::function<void(const Trial&)>& log) {
  std::vector<Trial> trials;
  std::map<std::string, double> done;  // Describe -> recall
  auto run = [&](const Setting& s) -> Result<double> {
    const std::string key = Describe(s);
    if (auto it = done.find(key); it != done.end()) return it->second;
    auto model = TrainModel(d, validation.train, s);
    if (!model.ok()) return model.status();
    const FactorRecommender r("als", model->users, model->items, s.metric);
    EvalSetup e = setup;
    e.split = &validation;
    e.similarity = nullptr;  // not needed to choose
    Trial t{s, Evaluate(r, e)};
    done[key] = t.metrics.recall;
    trials.push_back(t);
    if (log) log(t);
    return t.metrics.recall;
  };

  Setting best = start;
  auto best_recall = run(best);
  if (!best_recall.ok()) return best_recall.status();
  double best_score = *best_recall;
  // Each coordinate: try its values with the others at the best so far.
  auto coordinate = [&](auto values, auto apply) -> Status {
    for (const auto& v : values) {
      Setting s = best;
      apply(s, v);
      auto r = run(s);
      if (!r.ok()) return r.status();
      if (*r > best_score) {
        best_score = *r;
        best = s;
      }
    }
    return Status::OK();
  };
  using W = learn::EventKind;
  for (int round = 0; round < 2; ++round) {
    BF_RETURN_IF_ERROR(coordinate(space.like, [](Setting& s, float v) {
      s.als = WithWeights(s.als, v, s.als.confidence.weight[static_cast<int>(W::kView)]);
    }));
    BF_RETURN_IF_ERROR(coordinate(space.view, [](Setting& s, float v) {
      s.als = WithWeights(s.als, s.als.confidence.weight[static_cast<int>(W::kLike)], v);
    }));
    BF_RETURN_IF_ERROR(coordinate(space.regularization,
                                  [](Setting& s, float v) { s.als.regularization = v; }));
    if (best.priors) {
      BF_RETURN_IF_ERROR(coordinate(space.prior_regularization,
                                    [](Setting& s, float v) { s.als.prior_regularization = v; }));
    }
    BF_RETURN_IF_ERROR(coordinate(space.iterations,
                                  [](Setting& s, int v) { s.als.iterations = v; }));
    BF_RETURN_IF_ERROR(coordinate(std::vector<Metric>{Metric::kInnerProduct, Metric::kCosine},
                                  [](Setting& s, Metric v) { s.metric = v; }));
  }
  return trials;
}

}  // namespace bf::eval
