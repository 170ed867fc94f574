// The store-reading side of an index build, for the offline tools
// (bridgefeed-import at its end, bridgefeed-rebuild): every post the store
// holds, read into an IndexBuilder (index/index_builder.h) with the spec the
// database's server uses. The engine fills its builder from its in-memory
// post table instead (engine_index.cc), which holds the same rows.
//
// It lives in the engine facade target because it needs both the store and
// index/, and the facade is the lowest layer that sees both.
#pragma once

#include <string>

#include "embeddings/status.h"
#include "engine/store/store.h"
#include "index/ann_index.h"
#include "index/index_builder.h"

namespace bf {

// The spec to build for this database: `requested` when not empty, else the
// --index its server last ran with (recorded in the store's meta), else
// "auto".
std::string IndexSpecFor(const Store& store, const std::string& requested);

// Reads every post of `store` (internal-id order) into a new builder.
//   options: the build's settings. dim is taken from the store; an empty
//     spec means IndexSpecFor(store, "").
//   read: gets (posts read, posts counted before the scan) after each post,
//     and (n, n) at the end when the count was off; nothing for an empty
//     store. May be null.
// The builder covers the store's db id and the LastSequence read before the
// scan: every post write up to it is among the rows, and later ones are left
// to the catch-up of whoever loads the index (INDEX.LOAD, server start).
// Safe on a read-only (secondary) store while a server writes the database.
// Errors: the store's (IOError, Corruption) when the count or scan fails.
Result<IndexBuilder> ReadStoredPosts(const Store& store, IndexOptions options,
                                     const Progress& read = nullptr);

}  // namespace bf
