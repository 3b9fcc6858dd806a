// DocumentReader implementation: input expansion, decompression (zstd,
// gzip), line splitting and simdjson parsing, with precise error locations.
#include "storage/input_reader.h"

#include <fnmatch.h>
#include <simdjson.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace dedupdb {
namespace {

constexpr size_t kReadChunk = 1 << 20;

// The JSON text of a number-valued top-level field of an already validated
// object (simdjson's DOM keeps only the parsed value; ids keep their text).
std::string_view RawTopLevelNumber(std::string_view json, std::string_view field) {
  size_t i = json.find('{');
  if (i == std::string_view::npos) return {};
  ++i;
  auto skip_ws = [&] {
    while (i < json.size() && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r')) ++i;
  };
  auto skip_string = [&] {  // at the opening quote; returns the raw body
    size_t start = ++i;
    while (i < json.size() && json[i] != '"') i += json[i] == '\\' ? 2 : 1;
    return json.substr(start, (i++) - start);
  };
  while (i < json.size()) {
    skip_ws();
    if (i >= json.size() || json[i] != '"') return {};
    std::string_view key = skip_string();  // ids with escaped names are not matched
    skip_ws();
    ++i;  // ':'
    skip_ws();
    size_t start = i;
    if (json[i] == '"') {
      skip_string();
    } else if (json[i] == '{' || json[i] == '[') {
      int depth = 0;
      while (i < json.size()) {
        char c = json[i];
        if (c == '"') { skip_string(); continue; }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') { if (--depth == 0) { ++i; break; } }
        ++i;
      }
    } else {
      while (i < json.size() && json[i] != ',' && json[i] != '}' && json[i] != ' ' && json[i] != '\t' &&
             json[i] != '\r' && json[i] != '\n') ++i;
      if (key == field) return json.substr(start, i - start);
    }
    skip_ws();
    if (i < json.size() && json[i] == ',') ++i;
  }
  return {};
}

// Offset of the first byte that is not part of a valid UTF-8 sequence.
size_t FirstInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = p[i];
    size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (len == 0 || i + len > n) return i;
    for (size_t k = 1; k < len; ++k) if ((p[i + k] & 0xC0) != 0x80) return i;
    if (len == 3) {
      uint32_t cp = ((c & 0x0F) << 12) | ((p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
      if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    } else if (len == 4) {
      uint32_t cp = ((c & 0x07) << 18) | ((p[i + 1] & 0x3F) << 12) | ((p[i + 2] & 0x3F) << 6) | (p[i + 3] & 0x3F);
      if (cp < 0x10000 || cp > 0x10FFFF) return i;
    }
    i += len;
  }
  return n;
}

bool HasWildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Name without a compression suffix, to decide text vs JSONL.
std::string_view StripCompression(std::string_view name) {
  for (std::string_view ext : {".gz", ".zst", ".zstd"}) {
    if (EndsWith(name, ext)) return name.substr(0, name.size() - ext.size());
  }
  return name;
}

// JSONL by name; every other file is one plain-text document.
bool IsJsonlName(std::string_view path) {
  std::string_view base = StripCompression(path);
  return EndsWith(base, ".jsonl") || EndsWith(base, ".json") || EndsWith(base, ".ndjson");
}
bool IsTextFile(std::string_view path) { return !IsJsonlName(path); }

// What a directory contributes: JSONL files and *.txt (compressed or not).
bool IsCorpusFileName(std::string_view name) { return IsJsonlName(name) || EndsWith(StripCompression(name), ".txt"); }

Status ExpandDir(Env* env, const std::string& dir, std::vector<std::string>* files) {
  std::vector<FileInfo> entries;
  DEDUPDB_RETURN_IF_ERROR(env->ListDir(dir, &entries));
  for (const auto& e : entries) {
    if (e.name.empty() || e.name[0] == '.') continue;
    std::string p = JoinPath(dir, e.name);
    if (e.is_directory) {
      DEDUPDB_RETURN_IF_ERROR(ExpandDir(env, p, files));
    } else if (IsCorpusFileName(e.name)) {
      files->push_back(p);
    }
  }
  return Status::OK();
}

// Glob through Env::ListDir + fnmatch, one path component at a time.
Status ExpandGlob(Env* env, const std::string& pattern, std::vector<std::string>* out) {
  std::vector<std::string> parts;
  size_t start = 0;
  bool absolute = !pattern.empty() && pattern[0] == '/';
  while (start <= pattern.size()) {
    size_t slash = pattern.find('/', start);
    if (slash == std::string::npos) slash = pattern.size();
    if (slash > start) parts.push_back(pattern.substr(start, slash - start));
    start = slash + 1;
  }
  std::vector<std::string> current = {absolute ? "/" : ""};
  for (size_t i = 0; i < parts.size(); ++i) {
    std::vector<std::string> next;
    for (const auto& base : current) {
      std::string dir = base.empty() ? "." : base;
      if (!HasWildcard(parts[i])) {
        std::string p = base.empty() ? parts[i] : JoinPath(base, parts[i]);
        if (env->FileExists(p)) next.push_back(p);
        continue;
      }
      std::vector<FileInfo> entries;
      if (!env->ListDir(dir, &entries).ok()) continue;
      for (const auto& e : entries) {
        if (e.name[0] == '.' && parts[i][0] != '.') continue;
        if (::fnmatch(parts[i].c_str(), e.name.c_str(), 0) == 0) {
          next.push_back(base.empty() ? e.name : JoinPath(base, e.name));
        }
      }
    }
    current.swap(next);
  }
  std::sort(current.begin(), current.end());
  for (const auto& p : current) {
    FileInfo fi;
    if (!env->GetFileInfo(p, &fi).ok()) continue;
    if (fi.is_directory) DEDUPDB_RETURN_IF_ERROR(ExpandDir(env, p, out));
    else out->push_back(p);
  }
  return Status::OK();
}

// A stream of decoded input bytes. Fill returns *got == 0 only at the end.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual Status Fill(char* dst, size_t cap, size_t* got) = 0;
};

// Decompressing byte stream over a SequentialFile; codec from magic bytes.
class StreamDecoder final : public ByteSource {
 public:
  enum class Codec { kNone, kZstd, kGzip };

  // total_read accumulates compressed bytes over all files (for progress).
  StreamDecoder(std::unique_ptr<SequentialFile> file, std::atomic<uint64_t>* total_read)
      : file_(std::move(file)), total_read_(total_read) {}
  ~StreamDecoder() override {
    if (zstd_) ZSTD_freeDStream(zstd_);
    if (gzip_init_) inflateEnd(&gz_);
  }

  Status Init() {
    DEDUPDB_RETURN_IF_ERROR(ReadInput());
    const auto* m = reinterpret_cast<const unsigned char*>(in_.data());
    if (in_.size() >= 4 && m[0] == 0x28 && m[1] == 0xB5 && m[2] == 0x2F && m[3] == 0xFD) {
      codec_ = Codec::kZstd;
      zstd_ = ZSTD_createDStream();
      ZSTD_initDStream(zstd_);
    } else if (in_.size() >= 2 && m[0] == 0x1F && m[1] == 0x8B) {
      codec_ = Codec::kGzip;
      std::memset(&gz_, 0, sizeof(gz_));
      if (inflateInit2(&gz_, 16 + MAX_WBITS) != Z_OK) return Status::IOError(path() + ": zlib init failed");
      gzip_init_ = true;
    }
    return Status::OK();
  }

  const std::string& path() const { return file_->path(); }
  Codec codec() const { return codec_; }

  // Fills up to cap bytes; *got == 0 only at the end of the stream.
  Status Fill(char* dst, size_t cap, size_t* got) override {
    *got = 0;
    switch (codec_) {
      case Codec::kNone: {
        if (in_pos_ < in_.size()) {
          size_t n = std::min(cap, in_.size() - in_pos_);
          std::memcpy(dst, in_.data() + in_pos_, n);
          in_pos_ += n;
          *got = n;
          return Status::OK();
        }
        size_t n = 0;
        DEDUPDB_RETURN_IF_ERROR(file_->Read(cap, dst, &n));
        bytes_read_ += n;
        *total_read_ += n;
        *got = n;
        return Status::OK();
      }
      case Codec::kZstd:
        while (true) {
          if (in_pos_ == in_.size()) {
            DEDUPDB_RETURN_IF_ERROR(ReadInput());
            if (in_.empty()) {
              if (zstd_pending_ != 0) {
                return Status::Corruption(path() + ": truncated zstd stream (ends after " +
                                          std::to_string(bytes_read_) + " compressed bytes)");
              }
              return Status::OK();
            }
          }
          ZSTD_inBuffer in{in_.data(), in_.size(), in_pos_};
          ZSTD_outBuffer out{dst, cap, 0};
          size_t r = ZSTD_decompressStream(zstd_, &out, &in);
          in_pos_ = in.pos;
          if (ZSTD_isError(r)) {
            return Status::Corruption(path() + ": zstd: " + ZSTD_getErrorName(r) + " near compressed byte " +
                                      std::to_string(bytes_read_ - (in_.size() - in_pos_)));
          }
          zstd_pending_ = r;
          if (out.pos > 0) {
            *got = out.pos;
            return Status::OK();
          }
        }
      case Codec::kGzip:
        while (true) {
          if (in_pos_ == in_.size()) {
            DEDUPDB_RETURN_IF_ERROR(ReadInput());
            if (in_.empty()) {
              if (!gz_ended_) {
                return Status::Corruption(path() + ": truncated gzip stream (ends after " +
                                          std::to_string(bytes_read_) + " compressed bytes)");
              }
              return Status::OK();
            }
          }
          if (gz_ended_) {  // another gzip member follows (concatenated .gz)
            inflateReset(&gz_);
            gz_ended_ = false;
          }
          gz_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
          gz_.avail_in = static_cast<uInt>(in_.size() - in_pos_);
          gz_.next_out = reinterpret_cast<Bytef*>(dst);
          gz_.avail_out = static_cast<uInt>(std::min<size_t>(cap, 1u << 30));
          int r = inflate(&gz_, Z_NO_FLUSH);
          in_pos_ = in_.size() - gz_.avail_in;
          size_t produced = reinterpret_cast<char*>(gz_.next_out) - dst;
          if (r == Z_STREAM_END) {
            gz_ended_ = true;
          } else if (r != Z_OK && r != Z_BUF_ERROR) {
            return Status::Corruption(path() + ": gzip: " + (gz_.msg ? gz_.msg : "inflate error") +
                                      " near compressed byte " + std::to_string(bytes_read_ - (in_.size() - in_pos_)));
          }
          if (produced > 0) {
            *got = produced;
            return Status::OK();
          }
        }
    }
    return Status::OK();
  }

 private:
  Status ReadInput() {
    in_.resize(kReadChunk);
    size_t n = 0;
    Status s = file_->Read(kReadChunk, in_.data(), &n);
    in_.resize(s.ok() ? n : 0);
    in_pos_ = 0;
    bytes_read_ += in_.size();
    *total_read_ += in_.size();
    return s;
  }

  std::unique_ptr<SequentialFile> file_;
  uint64_t bytes_read_ = 0;  // compressed bytes of this file
  std::atomic<uint64_t>* total_read_;
  std::string in_;
  size_t in_pos_ = 0;
  Codec codec_ = Codec::kNone;
  ZSTD_DStream* zstd_ = nullptr;
  size_t zstd_pending_ = 0;
  z_stream gz_;
  bool gzip_init_ = false;
  bool gz_ended_ = false;
};

// Runs a StreamDecoder on its own thread, a few chunks ahead of the parser,
// so decompression overlaps parsing (same Fill contract as StreamDecoder).
class PrefetchingDecoder final : public ByteSource {
 public:
  explicit PrefetchingDecoder(std::unique_ptr<StreamDecoder> decoder)
      : decoder_(std::move(decoder)), thread_([this] { Run(); }) {}
  ~PrefetchingDecoder() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  Status Fill(char* dst, size_t cap, size_t* got) override {
    *got = 0;
    if (pos_ == current_.data.size()) {
      if (done_) return final_;
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !queue_.empty(); });
      current_ = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      cv_.notify_all();
      pos_ = 0;
      if (!current_.status.ok() || current_.data.empty()) {
        done_ = true;
        final_ = current_.status;
        return final_;
      }
    }
    size_t n = std::min(cap, current_.data.size() - pos_);
    std::memcpy(dst, current_.data.data() + pos_, n);
    pos_ += n;
    *got = n;
    return Status::OK();
  }

 private:
  static constexpr size_t kChunk = 1 << 20;
  static constexpr size_t kMaxQueued = 4;
  struct Chunk {
    std::string data;
    Status status;
  };

  void Run() {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || queue_.size() < kMaxQueued; });
        if (stop_) return;
      }
      Chunk c;
      c.data.resize(kChunk);
      size_t n = 0;
      c.status = decoder_->Fill(c.data.data(), kChunk, &n);
      c.data.resize(c.status.ok() ? n : 0);
      bool last = !c.status.ok() || n == 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(std::move(c));
      }
      cv_.notify_all();
      if (last) return;
    }
  }

  std::unique_ptr<StreamDecoder> decoder_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> queue_;
  bool stop_ = false;
  Chunk current_;
  size_t pos_ = 0;
  bool done_ = false;
  Status final_;
  std::thread thread_;  // last: starts after the members above exist
};

class DocumentReaderImpl final : public DocumentReader {
 public:
  DocumentReaderImpl(Env* env, ReaderOptions options) : env_(env), options_(std::move(options)) {}

  Status Init(const std::vector<std::string>& inputs) {
    DEDUPDB_RETURN_IF_ERROR(ExpandInputs(env_, inputs, &files_));
    if (files_.empty()) return Status::InvalidArgument("no input files");
    for (const auto& f : files_) {
      if (f == "-") continue;
      FileInfo fi;
      DEDUPDB_RETURN_IF_ERROR(env_->GetFileInfo(f, &fi));
      total_bytes_ += fi.size;
    }
    buf_.resize(kInitialBuffer + simdjson::SIMDJSON_PADDING);
    return Status::OK();
  }

  Status Next(InputRecord* rec, bool* done) override {
    *done = false;
    while (true) {
      if (!open_) {
        if (next_file_ >= files_.size()) {
          *done = true;
          return Status::OK();
        }
        current_ = next_file_++;
        Status s = OpenFile(files_[current_]);
        if (!s.ok()) {
          DEDUPDB_RETURN_IF_ERROR(StreamFailure(s, 0, 0));
          continue;
        }
      }
      bool got = false;
      Status s = is_text_ ? NextText(rec, &got) : NextJsonl(rec, &got);
      if (!s.ok()) return s;
      if (got) return Status::OK();
    }
  }

  const std::vector<std::string>& files() const override { return files_; }
  size_t current_file() const override { return current_; }
  void SkipRestOfFile() override { CloseFile(); }
  const std::vector<SkippedRecord>& skipped() const override { return skipped_; }
  uint64_t blank_lines() const override { return blank_lines_; }
  uint64_t input_bytes_read() const override { return bytes_read_.load(std::memory_order_relaxed); }
  uint64_t input_bytes_total() const override { return total_bytes_; }
  uint64_t decoded_bytes() const override { return decoded_; }

 private:
  static constexpr size_t kInitialBuffer = 4 << 20;

  Status OpenFile(const std::string& path) {
    std::unique_ptr<SequentialFile> f;
    if (path == "-") DEDUPDB_RETURN_IF_ERROR(env_->NewStdinFile(&f));
    else DEDUPDB_RETURN_IF_ERROR(env_->NewSequentialFile(path, &f));
    auto decoder = std::make_unique<StreamDecoder>(std::move(f), &bytes_read_);
    open_ = true;
    is_text_ = path != "-" && IsTextFile(path);
    begin_ = end_ = 0;
    line_ = 0;
    line_offset_ = 0;
    eof_ = false;
    file_bytes_ = 0;
    Status s = decoder->Init();
    if (!s.ok()) {
      CloseFile();
      return s;
    }
    // Compressed input: decompress on a second thread, ahead of parsing.
    if (decoder->codec() == StreamDecoder::Codec::kNone) decoder_ = std::move(decoder);
    else decoder_ = std::make_unique<PrefetchingDecoder>(std::move(decoder));
    return Status::OK();
  }

  void CloseFile() {
    decoder_.reset();
    open_ = false;
  }

  // Records a problem: under kFail returns it as an error; under kSkip lists
  // it and returns OK (the caller carries on).
  Status Bad(const std::string& reason, uint64_t line, uint64_t offset, bool fatal_for_file) {
    const std::string path = Name(current_);
    if (fatal_for_file) CloseFile();
    // Messages from lower layers already start with "path: ".
    std::string msg = reason.rfind(path + ": ", 0) == 0 ? reason.substr(path.size() + 2) : reason;
    if (options_.policy == BadInputPolicy::kFail) {
      std::string where = path;
      if (line > 0) where += ":" + std::to_string(line) + " (byte " + std::to_string(offset) + ")";
      return Status::InvalidArgument(where + ": " + msg);
    }
    skipped_.push_back(SkippedRecord{path, line, offset, msg});
    return Status::OK();
  }

  // A failure of the byte stream: a damaged compressed stream is bad input
  // (policy applies); an I/O error from the Env is returned as it is.
  Status StreamFailure(const Status& s, uint64_t line, uint64_t offset) {
    if (s.IsCorruption()) return Bad(s.message(), line, offset, true);
    const std::string path = Name(current_);
    CloseFile();
    return s.message().find(path) == std::string::npos ? s.WithContext(path) : s;
  }

  const std::string& Name(size_t i) const {
    static const std::string kStdin = "<stdin>";
    return files_[i] == "-" ? kStdin : files_[i];
  }

  // Makes sure [begin_, end_) holds at least one full line or the rest of
  // the file. Returns the line (without '\n') in *line; *have=false at EOF.
  Status NextLine(std::string_view* line, bool* have) {
    *have = false;
    size_t scan = begin_;
    while (true) {
      const char* nl = static_cast<const char*>(std::memchr(buf_.data() + scan, '\n', end_ - scan));
      if (nl != nullptr) {
        size_t pos = static_cast<size_t>(nl - buf_.data());
        *line = std::string_view(buf_.data() + begin_, pos - begin_);
        line_offset_ = file_bytes_ - (end_ - begin_);
        begin_ = pos + 1;
        *have = true;
        return Status::OK();
      }
      if (eof_) {
        if (end_ > begin_) {
          *line = std::string_view(buf_.data() + begin_, end_ - begin_);
          line_offset_ = file_bytes_ - (end_ - begin_);
          begin_ = end_;
          *have = true;
        }
        return Status::OK();
      }
      scan = end_;
      // Compact, grow if the partial line fills the buffer, then read more.
      if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        scan -= begin_;
        end_ -= begin_;
        begin_ = 0;
      }
      size_t cap = buf_.size() - simdjson::SIMDJSON_PADDING;
      if (end_ == cap) {
        buf_.resize(cap * 2 + simdjson::SIMDJSON_PADDING);
        cap = buf_.size() - simdjson::SIMDJSON_PADDING;
      }
      size_t got = 0;
      DEDUPDB_RETURN_IF_ERROR(decoder_->Fill(buf_.data() + end_, cap - end_, &got));
      if (got == 0) eof_ = true;
      end_ += got;
      file_bytes_ += got;
      decoded_ += got;
    }
  }

  Status NextJsonl(InputRecord* rec, bool* got) {
    *got = false;
    while (true) {
      std::string_view line;
      bool have = false;
      Status s = NextLine(&line, &have);
      if (!s.ok()) return StreamFailure(s, line_ + 1, file_bytes_);
      if (!have) {
        if (file_bytes_ == 0) {
          DEDUPDB_RETURN_IF_ERROR(Bad("empty file", 0, 0, true));
        }
        CloseFile();
        return Status::OK();
      }
      ++line_;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
        ++blank_lines_;
        continue;
      }
      std::string reason;
      if (ParseLine(line, rec, &reason)) {
        rec->source = &Name(current_);
        rec->line = line_;
        rec->byte_offset = line_offset_;
        *got = true;
        return Status::OK();
      }
      DEDUPDB_RETURN_IF_ERROR(Bad(reason, line_, line_offset_, false));
    }
  }

  // simdjson's DOM parser picks its SIMD kernel (haswell, icelake, ...) at
  // run time; it validates structure and UTF-8 of the whole line.
  bool ParseLine(std::string_view line, InputRecord* rec, std::string* reason) {
    // The buffer always has SIMDJSON_PADDING readable bytes past end_.
    simdjson::dom::element doc;
    auto err = parser_.parse(line.data(), line.size(), false).get(doc);
    if (err == simdjson::UTF8_ERROR) {
      *reason = "invalid UTF-8 at byte " + std::to_string(FirstInvalidUtf8(line)) + " of the line";
      return false;
    }
    if (err) {
      *reason = std::string("malformed JSON: ") + simdjson::error_message(err);
      return false;
    }
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) {
      *reason = "line is not a JSON object";
      return false;
    }
    bool have_text = false, have_id = false;
    std::string_view text;
    for (simdjson::dom::key_value_pair field : obj) {
      if (!have_text && field.key == options_.text_field && options_.token_array) {
        if (!ParseTokenArray(field.value, reason)) return false;
        text = token_buf_;
        have_text = true;
      } else if (!have_text && field.key == options_.text_field) {
        if (field.value.get_string().get(text)) {
          *reason = "field \"" + options_.text_field + "\" is not a string";
          return false;
        }
        have_text = true;
      } else if (!have_id && field.key == options_.id_field) {
        std::string_view sv;
        if (field.value.is_string()) {
          if (field.value.get_string().get(sv)) sv = {};
          id_buf_.assign(sv);
        } else if (field.value.is_number()) {
          id_buf_.assign(RawTopLevelNumber(line, options_.id_field));
        } else {
          *reason = "field \"" + options_.id_field + "\" must be a string or a number";
          return false;
        }
        have_id = true;
      }
    }
    if (!have_text) {
      *reason = "missing field \"" + options_.text_field + "\"";
      return false;
    }
    if (options_.token_array) {
      // Token ids: any bytes are fine.
    } else if (const void* nul = std::memchr(text.data(), 0, text.size())) {
      *reason = "NUL byte in field \"" + options_.text_field + "\" at byte " +
                std::to_string(static_cast<const char*>(nul) - text.data()) + " of the text";
      return false;
    }
    if (!have_id) id_buf_ = Name(current_) + ":" + std::to_string(line_);
    rec->external_id = id_buf_;
    rec->text = text;
    return true;
  }

  // An array of token ids -> token_buf_ (little-endian u32s).
  bool ParseTokenArray(simdjson::dom::element value, std::string* reason) {
    simdjson::dom::array arr;
    if (value.get_array().get(arr)) {
      *reason = "field \"" + options_.text_field + "\" is not an array of token ids";
      return false;
    }
    token_buf_.clear();
    size_t k = 0;
    for (simdjson::dom::element e : arr) {
      uint64_t v = 0;
      if (e.get_uint64().get(v) || v > UINT32_MAX) {
        *reason = "element " + std::to_string(k) + " of field \"" + options_.text_field +
                  "\" is not a token id (an integer 0..4294967295)";
        return false;
      }
      uint32_t t = static_cast<uint32_t>(v);
      token_buf_.append(reinterpret_cast<const char*>(&t), 4);
      ++k;
    }
    return true;
  }

  // A .txt file is one document: read all of it.
  Status NextText(InputRecord* rec, bool* got) {
    *got = false;
    if (line_ > 0) {
      CloseFile();
      return Status::OK();
    }
    while (!eof_) {
      size_t cap = buf_.size() - simdjson::SIMDJSON_PADDING;
      if (end_ == cap) buf_.resize(cap * 2 + simdjson::SIMDJSON_PADDING);
      cap = buf_.size() - simdjson::SIMDJSON_PADDING;
      size_t n = 0;
      Status s = decoder_->Fill(buf_.data() + end_, cap - end_, &n);
      if (!s.ok()) return StreamFailure(s, 0, 0);
      if (n == 0) eof_ = true;
      end_ += n;
      decoded_ += n;
    }
    line_ = 1;
    std::string_view text(buf_.data(), end_);
    const std::string& path = files_[current_];
    if (text.empty()) return Bad("empty file", 0, 0, true);
    if (const void* nul = std::memchr(text.data(), 0, text.size())) {
      return Bad("NUL byte at byte offset " + std::to_string(static_cast<const char*>(nul) - text.data()), 0, 0, true);
    }
    if (!simdjson::validate_utf8(text.data(), text.size())) {
      return Bad("invalid UTF-8 at byte offset " + std::to_string(FirstInvalidUtf8(text)), 0, 0, true);
    }
    rec->text = text;
    rec->external_id = path;
    rec->source = &path;
    rec->line = 1;
    rec->byte_offset = 0;
    *got = true;
    return Status::OK();
  }

  Env* env_;
  ReaderOptions options_;
  std::vector<std::string> files_;
  size_t next_file_ = 0, current_ = 0;
  bool open_ = false, is_text_ = false, eof_ = false;
  std::unique_ptr<ByteSource> decoder_;
  std::string buf_;
  size_t begin_ = 0, end_ = 0;
  uint64_t line_ = 0, line_offset_ = 0, file_bytes_ = 0;
  std::atomic<uint64_t> bytes_read_{0};
  uint64_t total_bytes_ = 0, decoded_ = 0, blank_lines_ = 0;
  std::vector<SkippedRecord> skipped_;
  simdjson::dom::parser parser_;
  std::string id_buf_;
  std::string token_buf_;  // ReaderOptions::token_array: the record's ids
};

}  // namespace

Status ExpandInputs(Env* env, const std::vector<std::string>& inputs, std::vector<std::string>* files) {
  files->clear();
  for (const auto& in : inputs) {
    if (in == "-") {
      files->push_back(in);
      continue;
    }
    FileInfo fi;
    Status s = env->GetFileInfo(in, &fi);
    if (s.ok()) {
      if (fi.is_directory) {
        size_t before = files->size();
        DEDUPDB_RETURN_IF_ERROR(ExpandDir(env, in, files));
        std::sort(files->begin() + static_cast<long>(before), files->end());
        if (files->size() == before) return Status::InvalidArgument(in + ": directory holds no .jsonl/.json/.ndjson/.txt files (name other files or use a glob)");
      } else {
        files->push_back(in);
      }
    } else if (HasWildcard(in)) {
      size_t before = files->size();
      DEDUPDB_RETURN_IF_ERROR(ExpandGlob(env, in, files));
      if (files->size() == before) return Status::InvalidArgument(in + ": pattern matches no files");
    } else {
      return s;
    }
  }
  return Status::OK();
}

Status DocumentReader::Open(Env* env, const std::vector<std::string>& inputs, const ReaderOptions& options,
                            std::unique_ptr<DocumentReader>* out) {
  auto r = std::make_unique<DocumentReaderImpl>(env, options);
  DEDUPDB_RETURN_IF_ERROR(r->Init(inputs));
  *out = std::move(r);
  return Status::OK();
}

}  // namespace dedupdb
