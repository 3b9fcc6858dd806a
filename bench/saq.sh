#!/bin/bash
# Suffix-array query benchmarks (docs/benchmarks.md "Suffix-array build and
# queries" / "queries") and the scaling measurements of docs/scaling.md.
#
#   bench/saq.sh queries [WORK]   full corpus: count latency warm/cold vs grep,
#                                 10k cold batch io_uring vs one-by-one pread
#   bench/saq.sh scale MB [WORK]  corpus of MB megabytes (bench/saq_make_corpus.sh):
#                                 build time + peak RSS + disk, query latency
#
# WORK defaults to /tmp/saq-bench. Needs a Release build in build-saq
# (cmake -S . -B build-saq -DCMAKE_BUILD_TYPE=Release && cmake --build build-saq -j2).
# Cold = the index's pages evicted (posix_fadvise DONTNEED after unmapping);
# EVICT=drop uses `echo 3 > /proc/sys/vm/drop_caches` instead (root).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=${BUILD_DIR:-$root/build-saq}
cli=$bin/dedupdb
bench=$bin/bench/saq_query_bench
mode=${1:-queries}
evict=${EVICT:-fadvise}

# build_store DIR INPUT...: ingest + SA index, each under /usr/bin/time -v.
build_store() {
  local dir=$1; shift
  rm -rf "$dir"
  /usr/bin/time -v "$cli" -q build "$dir" "$@" 2> "$dir.ingest.time"
  /usr/bin/time -v "$cli" -q index-sa "$dir" --memory "${MEMORY:-8G}" --threads 2 2> "$dir.sa.time"
  for p in ingest sa; do
    echo "$p: wall $(grep 'Elapsed' "$dir.$p.time" | awk '{print $NF}')," \
         "user $(grep 'User time' "$dir.$p.time" | awk '{print $NF}') s," \
         "peak RSS $(grep 'Maximum resident' "$dir.$p.time" | awk '{printf "%.0f MB", $NF/1000}')"
  done
  echo "disk: segments $(du -sm "$dir/segments" | cut -f1) MB, sa $(du -sm "$dir/sa" | cut -f1) MB," \
       "catalog $(du -sm "$dir/catalog" | cut -f1) MB"
}

case "$mode" in
  queries)
    work=${2:-/tmp/saq-bench}
    mkdir -p "$work"
    [ -d "$work/full" ] || build_store "$work/full" "$root/../shared/data/corpus/"
    "$bench" --store "$work/full" --queries 1000 --cold-singles 200 --batch 10000 --queue-depth 256 \
      --grep-text "$work/full.txt" --grep-samples 20 --evict "$evict" --seed 1
    ;;
  scale)
    mb=$2
    work=${3:-/tmp/saq-bench}
    mkdir -p "$work"
    "$here/saq_make_corpus.sh" "$work/c$mb.jsonl" "$mb"
    build_store "$work/s$mb" "$work/c$mb.jsonl"
    "$bench" --store "$work/s$mb" --queries 300 --cold-singles 100 --batch 2000 --evict "$evict" --seed 2
    ;;
  *)
    echo "usage: $0 queries [WORK] | scale MB [WORK]" >&2
    exit 2
    ;;
esac
