// Benchmark (eval) sets as decontamination inputs: one JSONL(.gz/.zst) file
// per set, one example per line. The checked text of an example is the given
// string fields joined by "\n" (like ngram_overlap_reference.py's
// --eval-fields); fields missing from a record are left out.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/env.h"
#include "storage/status.h"

namespace dedupdb {

struct EvalSetSpec {
  std::string path;
  std::string name;                 // set name; default from the file name
  std::vector<std::string> fields;  // fields making up the checked text
  // Token mode: the fields hold arrays of token ids (JSON integers); the
  // example is their concatenation, passed to ReadEvalSet's callback as
  // little-endian u32 bytes.
  bool tokens = false;
};

// "gsm8k_test.jsonl.zst" -> "gsm8k_test" (the reference's set_name()).
std::string EvalSetNameFromPath(const std::string& path);

// Default fields for a set name. Every file in ../shared/data/benchmarks has
// a "text" field holding the example as the eval harness shows it, which is
// the default; a few known raw formats get their question+answer fields.
std::vector<std::string> DefaultEvalFields(std::string_view set_name);

// Parses "path", "name=path" or "path:field1,field2" / "name=path:fields"
// into a spec, filling in defaults (fields_override, if non-empty, wins over
// the per-name default but not over fields given in the argument).
Status ParseEvalSetArg(const std::string& arg, const std::vector<std::string>& fields_override, EvalSetSpec* spec);

// Calls fn(example_index, external_id, checked_text) for every record of the
// set in file order, example_index counting from 0 (a set given as a
// directory or glob reads its files in order; token mode: checked_text is
// the ids as little-endian u32s). external_id is the record's "id" or its 0-based line
// number, as in the reference. Records where none of the fields is present
// give an empty text (the caller decides; the reference skips them).
Status ReadEvalSet(Env* env, const EvalSetSpec& spec,
                   const std::function<Status(uint64_t, std::string_view, std::string_view)>& fn);

}  // namespace dedupdb
