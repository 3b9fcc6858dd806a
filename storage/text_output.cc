#include "storage/text_output.h"

#include <zstd.h>

namespace dedupdb {

namespace {
constexpr size_t kInChunk = 1 << 20;
bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

Status TextOutput::Open(Env* env, const std::string& path, std::unique_ptr<TextOutput>* out) {
  std::unique_ptr<TextOutput> t(new TextOutput());
  t->env_ = env;
  t->path_ = path;
  t->tmp_path_ = path + ".tmp";
  Status st = env->NewWritableFile(t->tmp_path_, &t->file_);
  if (!st.ok()) return st.WithContext("cannot write " + path);
  if (EndsWith(path, ".zst")) {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    if (c == nullptr) return Status::IOError(path + ": cannot create zstd context");
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
    t->zctx_ = c;
    t->out_buf_.resize(ZSTD_CStreamOutSize());
  }
  *out = std::move(t);
  return Status::OK();
}

TextOutput::~TextOutput() {
  if (zctx_ != nullptr) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zctx_));
  if (!finished_ && file_) {
    file_->Close();
    env_->RemoveFile(tmp_path_);
  }
}

Status TextOutput::Append(std::string_view data) {
  bytes_in_ += data.size();
  if (zctx_ == nullptr) return file_->Append(data);
  in_buf_.append(data);
  if (in_buf_.size() >= kInChunk) return Drain(false);
  return Status::OK();
}

Status TextOutput::Drain(bool end) {
  auto* c = static_cast<ZSTD_CCtx*>(zctx_);
  ZSTD_inBuffer in{in_buf_.data(), in_buf_.size(), 0};
  for (;;) {
    ZSTD_outBuffer out{out_buf_.data(), out_buf_.size(), 0};
    size_t rem = ZSTD_compressStream2(c, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(rem)) return Status::IOError(path_ + ": zstd: " + ZSTD_getErrorName(rem));
    if (out.pos > 0) DEDUPDB_RETURN_IF_ERROR(file_->Append(std::string_view(out_buf_.data(), out.pos)));
    if (end ? rem == 0 : in.pos == in.size) break;
  }
  in_buf_.clear();
  return Status::OK();
}

Status TextOutput::Finish() {
  if (zctx_ != nullptr) DEDUPDB_RETURN_IF_ERROR(Drain(true));
  DEDUPDB_RETURN_IF_ERROR(file_->Sync());
  DEDUPDB_RETURN_IF_ERROR(file_->Close());
  DEDUPDB_RETURN_IF_ERROR(env_->RenameFile(tmp_path_, path_));
  finished_ = true;
  return Status::OK();
}

}  // namespace dedupdb
