// Reads eval sets through the one input reader (storage/input_reader.h): one
// pass per field with the reader's text field set to it, merged by line.
#include "index/eval_set.h"

#include <map>
#include <memory>

#include "storage/input_reader.h"

namespace dedupdb {
namespace {

std::vector<std::string> SplitComma(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t c = s.find(',', pos);
    if (c == std::string_view::npos) c = s.size();
    if (c > pos) out.emplace_back(s.substr(pos, c - pos));
    pos = c + 1;
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

std::string EvalSetNameFromPath(const std::string& path) {
  std::string name = BaseName(path);
  for (const char* ext : {".zst", ".gz", ".jsonl", ".json"}) {
    std::string_view e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) name.resize(name.size() - e.size());
  }
  return name;
}

std::vector<std::string> DefaultEvalFields(std::string_view set_name) {
  // Raw (non eval-harness) layouts of well-known sets, for files that have
  // no "text" field; the shared benchmark files all have one.
  (void)set_name;
  return {"text"};
}

Status ParseEvalSetArg(const std::string& arg, const std::vector<std::string>& fields_override, EvalSetSpec* spec) {
  std::string rest = arg;
  spec->name.clear();
  spec->fields.clear();
  size_t eq = rest.find('=');
  if (eq != std::string::npos && rest.find('/') > eq) {
    spec->name = rest.substr(0, eq);
    rest = rest.substr(eq + 1);
  }
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find('/', colon) == std::string::npos && colon + 1 < rest.size()) {
    spec->fields = SplitComma(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return Status::InvalidArgument("eval set \"" + arg + "\": empty path");
  spec->path = rest;
  if (spec->name.empty()) spec->name = EvalSetNameFromPath(rest);
  if (spec->fields.empty()) spec->fields = fields_override.empty() ? DefaultEvalFields(spec->name) : fields_override;
  if (spec->fields.empty()) return Status::InvalidArgument("eval set \"" + arg + "\": no fields");
  return Status::OK();
}

Status ReadEvalSet(Env* env, const EvalSetSpec& spec,
                   const std::function<Status(uint64_t, std::string_view, std::string_view)>& fn) {
  struct Entry {
    std::string id;
    std::string text;
    bool has_text = false;
  };
  // Keyed by (file, line): a set given as a directory or glob spans files.
  std::map<std::pair<size_t, uint64_t>, Entry> lines;
  for (const std::string& field : spec.fields) {
    ReaderOptions ro;
    ro.text_field = field;
    ro.policy = BadInputPolicy::kSkip;
    ro.token_array = spec.tokens;
    std::unique_ptr<DocumentReader> reader;
    DEDUPDB_RETURN_IF_ERROR(DocumentReader::Open(env, {spec.path}, ro, &reader));
    for (;;) {
      InputRecord rec;
      bool done = false;
      DEDUPDB_RETURN_IF_ERROR(reader->Next(&rec, &done));
      if (done) break;
      Entry& e = lines[{reader->current_file(), rec.line}];
      if (e.id.empty()) {
        // The reader names id-less records "<file>:<line>"; the reference
        // uses the 0-based line number.
        std::string synthetic = *rec.source + ":" + std::to_string(rec.line);
        e.id = rec.external_id == synthetic ? std::to_string(rec.line - 1) : std::string(rec.external_id);
      }
      if (e.has_text && !spec.tokens) e.text.push_back('\n');
      e.text.append(rec.text);
      e.has_text = true;
    }
    // A record without this field is fine (the field is just left out); any
    // other problem is an error naming the file and line.
    for (const SkippedRecord& s : reader->skipped()) {
      if (StartsWith(s.reason, "missing field")) continue;
      return Status::InvalidArgument(s.source + ": line " + std::to_string(s.line) + " (byte " +
                                     std::to_string(s.byte_offset) + "): " + s.reason);
    }
  }
  uint64_t index = 0;
  for (const auto& [key, e] : lines) {
    DEDUPDB_RETURN_IF_ERROR(fn(index++, e.id, e.text));
  }
  return Status::OK();
}

}  // namespace dedupdb
