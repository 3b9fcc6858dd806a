#!/usr/bin/env bash
# Out-of-core build: a corpus 4.5x larger than the budget allows in one piece.
# Recipe: the ~446 MB ../shared/data/corpus ingested 4 times (through 4
# symlinked directory names, so ingest treats them as 4 sources) = 1.78 GB,
# 785,768 docs; index-sa --memory 2G (needs 5 x 1.78 = 8.9 GB in one shard).
#   bench/sa_build_big.sh [BUILD_DIR=build-sa] [WORK=/tmp/sa_big]
set -euo pipefail
BUILD=${1:-build-sa}
WORK=${2:-/tmp/sa_big}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=$ROOT/$BUILD/dedupdb
mkdir -p "$WORK"
if [ ! -d "$WORK/store" ]; then
  for i in 1 2 3 4; do ln -sfn "$ROOT/../shared/data/corpus" "$WORK/c$i"; done
  "$CLI" --quiet build "$WORK/store" "$WORK/c1/" "$WORK/c2/" "$WORK/c3/" "$WORK/c4/"
fi
/usr/bin/time -v "$CLI" --json --quiet index-sa "$WORK/store" --memory 2G --threads 2 > "$WORK/build.json" 2> "$WORK/build.time"
cat "$WORK/build.json"
grep -E "Maximum resident|Elapsed|User time|System time" "$WORK/build.time"
