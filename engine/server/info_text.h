// INFO's `# Text` section: the text model the server loaded (--text-model,
// docs/embeddings.md), each field a name and its text, in report order.
//
// Errors: none. Thread safety: safe from any thread (the model is fixed after
// the engine opens).
#pragma once

#include "engine/engine.h"
#include "engine/server/info_memory.h"

namespace bf {

// text_model_loaded (0/1); with a model: text_model_path, text_model_dim,
// text_model_load_ms, text_languages (codes, comma-separated), then per
// language text_lang_<code> as "words=N,vectors=N,empty=N": words with a
// vector (headwords and inflected forms), distinct vectors among them (about
// one per headword), headwords known without a vector.
InfoFields TextFields(const Engine& engine);

}  // namespace bf
