// The stored form of a resumable TrainRun (kTrainPendingMetaKey in
// engine/store/layout.h): what a node killed during a cluster TRAIN needs to
// train again, at start, exactly as the other nodes did.
#pragma once

#include <string>
#include <string_view>

#include "embeddings/status.h"
#include "engine/engine.h"

namespace bf::internal {

// One line of "key=value" fields; floats and doubles as their bit patterns,
// so the decoded run has the very same settings. dim and threads are not
// stored: they are the node's own.
std::string EncodeTrainRun(const TrainRun& run);

// Corruption naming the field for a missing, unknown or damaged value. The
// result has resumable set.
Result<TrainRun> DecodeTrainRun(std::string_view text);

}  // namespace bf::internal
