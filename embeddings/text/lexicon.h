// The lexicon file: per language, words -> (vector, weight) and the language's
// common component, as one compact binary file that TextModel loads.
//
// Layout (little-endian): the 8 bytes "BFTXTLX1", u32 dim, u32 language count,
// u64 byte count of the body, u64 checksum of the body (FNV-1a over 8-byte
// words), then the body: per language
//   u8 code length, code bytes, u32 word count, u32 vector count,
//   f32 common[dim], f32 vectors[vector count * dim], f32 weight[word count],
//   u32 vector_of[word count], u32 word_end[word count], u32 blob bytes, blob
// where word i is blob[word_end[i-1] .. word_end[i]).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "embeddings/status.h"

namespace bf::text {

struct LexiconLanguage {
  std::string code;            // "en", "zh", "ja", "pt", "es", "fr", "de", "it"
  std::vector<float> common;   // dim floats: unit vector removed from texts, or all zero
  // n * dim floats, each row unit length, except one all-zero row that the
  // words known without a vector share (weight 0).
  std::vector<float> vectors;
  std::vector<std::string> words;    // lowercase UTF-8, unique within the language
  std::vector<float> weight;         // per word, in [0, 1]: its SIF weight; 0: no vector
  std::vector<uint32_t> vector_of;   // per word: its row in `vectors`
};

struct Lexicon {
  int dim = 0;
  std::vector<LexiconLanguage> languages;
};

// Writes the file atomically (a temporary file renamed over `path`).
// Errors: Invalid when the lexicon is inconsistent (sizes, a vector index out
// of range, a code longer than 255 bytes); IOError when it cannot be written.
Status WriteLexicon(const Lexicon& lexicon, const std::string& path);

// Reads and checks a file written by WriteLexicon. Errors: IOError when it
// cannot be read (the message names the path); Corruption when it is not a
// lexicon file, is truncated, fails its checksum or holds an inconsistent size.
Result<Lexicon> ReadLexicon(const std::string& path);

}  // namespace bf::text
