#!/usr/bin/env bash
# Suffix-array build + count benchmark (docs/benchmarks.md, "Suffix-array
# build and queries"). Reproduce with:
#   bench/sa_build.sh [BUILD_DIR=build-sa] [WORK=/tmp/sa_bench]
# Ingests ../shared/data/corpus/ into WORK/store, then side by side:
#   1. bare divsufsort over the same bytes (one array)         -> baseline
#   2. dedupdb index-sa --memory 8G --threads 1 (one shard)    -> end to end
#   3. dedupdb index-sa --memory 1G --threads 2 (many shards)  -> RSS vs budget
# each under /usr/bin/time -v (peak RSS), then warm count latency for 1k
# present + 1k absent substrings vs grep -F -c.
set -euo pipefail
BUILD=${1:-build-sa}
WORK=${2:-/tmp/sa_bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=$ROOT/$BUILD/dedupdb
BENCH=$ROOT/$BUILD/bench/sa_build_bench
DATA=$ROOT/../shared/data/corpus
mkdir -p "$WORK"
if [ ! -d "$WORK/store" ]; then
  "$CLI" --quiet build "$WORK/store" "$DATA"
fi
rss() { grep "Maximum resident" "$1" | awk '{print $6}'; }
wall() { grep "Elapsed (wall" "$1" | awk '{print $8}'; }
# CPU seconds (user + sys): less sensitive than wall time to other load on a shared machine.
cpu() { awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$1"; }

/usr/bin/time -v "$BENCH" divsufsort "$WORK/store" > "$WORK/bare.json" 2> "$WORK/bare.time"
echo "bare divsufsort: $(cat "$WORK/bare.json") wall=$(wall "$WORK/bare.time") cpu_s=$(cpu "$WORK/bare.time") maxrss_kb=$(rss "$WORK/bare.time")"

/usr/bin/time -v "$CLI" --json --quiet index-sa "$WORK/store" --memory 8G --threads 1 --name one \
  > "$WORK/one.json" 2> "$WORK/one.time"
echo "index-sa 8G/1 thread: $(cat "$WORK/one.json") wall=$(wall "$WORK/one.time") cpu_s=$(cpu "$WORK/one.time") maxrss_kb=$(rss "$WORK/one.time")"

/usr/bin/time -v "$CLI" --json --quiet index-sa "$WORK/store" --memory 1G --threads 2 --name sharded \
  > "$WORK/sharded.json" 2> "$WORK/sharded.time"
echo "index-sa 1G/2 threads: $(cat "$WORK/sharded.json") wall=$(wall "$WORK/sharded.time") cpu_s=$(cpu "$WORK/sharded.time") maxrss_kb=$(rss "$WORK/sharded.time")"

"$BENCH" count "$WORK/store" --name one --queries 1000 --grep-sample 20 --dump "$WORK/corpus.txt"
"$BENCH" count "$WORK/store" --name sharded --queries 1000 --grep-sample 0 --dump "$WORK/corpus.txt"
