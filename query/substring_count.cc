#include "query/substring_count.h"

namespace dedupdb {

Status CountOccurrences(const SuffixArrayIndex& index, std::string_view query, CountResult* result) {
  DEDUPDB_RETURN_IF_ERROR(index.ValidateQuery(query));
  result->count = 0;
  result->ranges.assign(index.num_shards(), SaRange{});
  if (index.ContainsSeparator(query)) return Status::OK();
  for (size_t s = 0; s < index.num_shards(); ++s) {
    SaRange r = index.shard(s).FindRange(query);
    result->ranges[s] = r;
    result->count += r.size();
  }
  return Status::OK();
}

}  // namespace dedupdb
