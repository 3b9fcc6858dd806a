#include "query/longest_match.h"

#include <algorithm>

#include "index/sa_compare.h"

namespace dedupdb {
namespace {

// Common prefix, in whole symbols, of the suffix at symbol position pos and
// pattern (bytes), never reading past the end of the shard's text.
uint64_t LcpSymbols(const SaShard& shard, uint64_t pos, const uint8_t* pattern, size_t pattern_bytes) {
  const uint32_t sb = shard.symbol_bytes();
  const uint64_t off = pos * sb;
  const uint64_t total = shard.text_bytes();
  if (off >= total) return 0;
  size_t n = std::min<uint64_t>(pattern_bytes, total - off);
  return Mismatch(shard.text() + off, pattern, n) / sb;
}

bool IsSeparatorAt(std::string_view text, uint64_t sym, uint32_t sb, uint64_t separator) {
  uint64_t v = 0;
  for (uint32_t b = 0; b < sb; ++b) v = (v << 8) | static_cast<uint8_t>(text[sym * sb + b]);
  return v == separator;
}

}  // namespace

uint64_t SuffixLowerBound(const SaShard& shard, std::string_view pattern) {
  const uint8_t* q = reinterpret_cast<const uint8_t*>(pattern.data());
  const uint32_t sb = shard.symbol_bytes();
  const uint64_t total = shard.text_bytes();
  uint64_t lo = 0, hi = shard.num_suffixes();
  // lcp of the pattern with the suffixes just outside [lo, hi): every suffix
  // inside shares at least the smaller of the two, so those bytes are skipped.
  size_t llcp = 0, rlcp = 0;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    uint64_t off = shard.SuffixAt(mid) * sb;
    size_t lcp = 0;
    int c = CompareSuffixToQuery(shard.text() + off, total - off, q, pattern.size(), std::min(llcp, rlcp), &lcp);
    if (c < 0) {
      lo = mid + 1;
      llcp = lcp;
    } else {
      hi = mid;
      rlcp = lcp;
    }
  }
  return lo;
}

uint64_t ShardMatchingStatistics(const SaShard& shard, uint64_t separator, std::string_view text,
                                 std::vector<uint64_t>* ms, const std::function<void(uint64_t done)>& progress) {
  const uint32_t sb = shard.symbol_bytes();
  const uint64_t m = text.size() / sb;
  const uint8_t* q = reinterpret_cast<const uint8_t*>(text.data());
  const uint64_t n = shard.num_suffixes();
  uint64_t searches = 0;
  uint64_t seg_end = 0;  // first separator symbol at or after i (or m)
  uint64_t len = 0;      // carried match length: text[i, i+len) occurs at witness
  uint64_t witness = 0;  // symbol position in the shard
  for (uint64_t i = 0; i < m; ++i) {
    if (progress && (i & 4095) == 0) progress(i);
    if (i >= seg_end) {
      seg_end = i;
      while (seg_end < m && !IsSeparatorAt(text, seg_end, sb, separator)) ++seg_end;
      len = 0;
      if (seg_end == i) continue;  // a separator: matches nothing
    }
    const uint64_t rest = seg_end - i;  // symbols available to match
    const uint8_t* pat = q + i * sb;
    if (len > 0) {
      len += LcpSymbols(shard, witness + len, pat + len * sb, (rest - len) * sb);
    }
    if (len < rest && n > 0) {
      // The witness stopped short: the best suffix is a neighbour of the
      // pattern's insertion point.
      ++searches;
      uint64_t p = SuffixLowerBound(shard, std::string_view(reinterpret_cast<const char*>(pat), rest * sb));
      for (uint64_t r : {p - 1, p}) {
        if (r >= n) continue;  // p - 1 wraps when p == 0
        uint64_t pos = shard.SuffixAt(r);
        uint64_t l = LcpSymbols(shard, pos, pat, rest * sb);
        if (l > len) {
          len = l;
          witness = pos;
        }
      }
    }
    if (len > (*ms)[i]) (*ms)[i] = len;
    if (len > 0) {
      --len;
      ++witness;
    }
  }
  return searches;
}

std::vector<MatchSpan> MaximalSpans(const std::vector<uint64_t>& ms, uint64_t min_len) {
  std::vector<MatchSpan> spans;
  for (uint64_t i = 0; i < ms.size(); ++i) {
    if (ms[i] == 0 || ms[i] < min_len) continue;
    // Left-maximal: the span at i-1 ends before this one does.
    if (i > 0 && ms[i - 1] > ms[i]) continue;
    MatchSpan s;
    s.begin = i;
    s.length = ms[i];
    spans.push_back(std::move(s));
  }
  return spans;
}

Status LongestMatches(const SuffixArrayIndex& index, std::string_view text, const LongestMatchOptions& options,
                      LongestMatchResult* out) {
  DEDUPDB_RETURN_IF_ERROR(index.ValidateQuery(text));
  const uint32_t sb = index.symbol_bytes();
  *out = LongestMatchResult();
  out->match_length.assign(text.size() / sb, 0);
  const uint64_t m = out->match_length.size();
  const uint64_t total = m * index.num_shards();
  for (size_t s = 0; s < index.num_shards(); ++s) {
    std::function<void(uint64_t)> shard_progress;
    if (options.progress) shard_progress = [&, s](uint64_t done) { options.progress(s * m + done, total); };
    out->searches +=
        ShardMatchingStatistics(index.shard(s), index.separator(), text, &out->match_length, shard_progress);
  }
  if (options.progress) options.progress(total, total);

  out->spans = MaximalSpans(out->match_length, std::max<uint64_t>(options.min_len, 1));
  uint64_t covered_to = 0;
  for (MatchSpan& span : out->spans) {
    uint64_t end = span.begin + span.length;
    out->covered += end - std::max(span.begin, covered_to);
    covered_to = end;
    std::string_view pattern = text.substr(span.begin * sb, span.length * sb);
    std::vector<SpanLocation> found;
    uint64_t scanned = 0;
    for (size_t s = 0; s < index.num_shards(); ++s) {
      const SaShard& shard = index.shard(s);
      SaRange r = shard.FindRange(pattern);
      span.count += r.size();
      for (uint64_t k = r.lo; k < r.hi && scanned < options.max_scan; ++k, ++scanned) {
        DocPosition dp = shard.Locate(shard.SuffixAt(k));
        found.push_back(SpanLocation{dp.doc_id, dp.offset});
      }
    }
    span.locations_truncated = scanned < span.count;
    size_t keep = std::min<size_t>(found.size(), options.max_locations);
    std::partial_sort(found.begin(), found.begin() + keep, found.end());
    found.resize(keep);
    span.locations = std::move(found);
  }
  return Status::OK();
}

}  // namespace dedupdb
