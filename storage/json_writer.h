// JsonWriter: a small streaming JSON emitter for --json output and reports.
// Handles commas and string escaping; produces compact or indented output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dedupdb {

class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = false) : pretty_(pretty) {}
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view k);
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Double(double v, int precision = 6);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // Inserts already-serialised JSON as a value.
  JsonWriter& Raw(std::string_view json);
  // Key + value shorthands.
  JsonWriter& Field(std::string_view k, std::string_view v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, const char* v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, uint64_t v) { return Key(k).Uint(v); }
  JsonWriter& Field(std::string_view k, int64_t v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, int v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, unsigned v) { return Key(k).Uint(v); }
  JsonWriter& Field(std::string_view k, double v) { return Key(k).Double(v); }
  JsonWriter& Field(std::string_view k, bool v) { return Key(k).Bool(v); }
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

  // Appends s to out as a quoted JSON string (invalid UTF-8 becomes U+FFFD).
  static void AppendQuoted(std::string* out, std::string_view s);

 private:
  void BeforeValue();
  void Newline();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
  bool pretty_;
};

}  // namespace dedupdb
