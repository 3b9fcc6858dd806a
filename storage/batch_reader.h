// Constructors for the two BatchReader implementations (see storage/env.h).
// Env implementations choose between them; nothing else should need this.
#pragma once

#include <memory>

#include "storage/env.h"

namespace dedupdb {

// io_uring ring with `queue_depth` entries; fails (NotSupported) if the
// kernel or sandbox refuses io_uring_setup.
Status NewIoUringBatchReader(unsigned queue_depth, std::unique_ptr<BatchReader>* out);
// Sequential RandomAccessFile::Read per request; works on every Env.
std::unique_ptr<BatchReader> NewPreadBatchReader();

}  // namespace dedupdb
