#!/usr/bin/env bash
# Build time side by side, alternated to cancel load drift on a shared
# machine: bare divsufsort, index-sa, bare, index-sa on the same store
# (default: enwiki_extract only, 112 MB, so one round takes ~3 minutes).
#   bench/sa_build_alt.sh [BUILD_DIR=build-sa] [WORK=/tmp/sa_alt] [INPUT=enwiki_extract]
set -euo pipefail
BUILD=${1:-build-sa}
WORK=${2:-/tmp/sa_alt}
INPUT=${3:-enwiki_extract}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=$ROOT/$BUILD/dedupdb
BENCH=$ROOT/$BUILD/bench/sa_build_bench
S=$WORK/store
mkdir -p "$WORK"
[ -d "$S" ] || "$CLI" --quiet build "$S" "$ROOT/../shared/data/corpus/$INPUT.jsonl.zst"
cpu() { awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$1"; }
wall() { grep "Elapsed (wall" "$1" | awk '{print $8}'; }
rss() { grep "Maximum resident" "$1" | awk '{print $6}'; }
for r in 1 2; do
  /usr/bin/time -v "$BENCH" divsufsort "$S" > "$WORK/bare$r.json" 2> "$WORK/bare$r.time"
  echo "bare$r $(cat "$WORK/bare$r.json") wall=$(wall "$WORK/bare$r.time") cpu=$(cpu "$WORK/bare$r.time") rss_kb=$(rss "$WORK/bare$r.time")"
  /usr/bin/time -v "$CLI" --json --quiet index-sa "$S" --memory 8G --threads 1 > "$WORK/e2e$r.json" 2> "$WORK/e2e$r.time"
  echo "e2e$r $(cat "$WORK/e2e$r.json") wall=$(wall "$WORK/e2e$r.time") cpu=$(cpu "$WORK/e2e$r.time") rss_kb=$(rss "$WORK/e2e$r.time")"
done
