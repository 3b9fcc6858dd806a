#!/bin/bash
# Decontamination benchmarks; results go to docs/benchmarks.md ("Decontamination").
#   bench/decon.sh [BUILD_DIR] [WORK_DIR] [STORE_WITH_SA_INDEX]
# 1. eval index build over every ../shared/data/benchmarks set;
# 2. warm one-core Check throughput over the corpus loaded in memory, next to
#    the tokeniser-only and tokeniser+hash floors (bench/decon_bench.cc),
#    Check latency per 2 KB document, report generation time;
# 3. end-to-end `dedupdb decon scan` over ../shared/data/corpus/ (1 and 2 threads);
# 4. the Python reference (ngram_overlap_reference.py) and our scan on the same
#    subset (--limit docs per file), side by side, for the speed ratio;
# 5. with a store that has a suffix-array index: `decon report` (io_uring
#    batches and mmap binary searches).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$REPO/build}
WORK=${2:-/tmp/dedupdb_decon_bench}
STORE=${3:-}
DATA=$REPO/../shared/data
LIMIT=${LIMIT:-3000}
mkdir -p "$WORK"
cpu() { /usr/bin/time -f "cpu_seconds=%U+%S wall_seconds=%e" "$@"; }

echo "== eval index"
cpu "$BUILD/dedupdb" --json decon index --out "$WORK/evals.ddx" "$DATA"/benchmarks/*.jsonl.zst

echo "== warm one-core check (corpus in memory)"
"$BUILD/bench/decon_bench" "$WORK/evals.ddx" "$DATA/corpus/" --max-mb "${MAX_MB:-200}" --reps 2

echo "== end-to-end scan, whole corpus"
for t in 1 2; do
  cpu "$BUILD/dedupdb" -q --json decon scan --index "$WORK/evals.ddx" "$DATA/corpus/" --threads $t \
    --flagged "$WORK/flagged.jsonl" --report-html "$WORK/report.html" --report-json "$WORK/report.json" \
    --report-csv "$WORK/report.csv" | cut -c1-300
done

echo "== Python reference vs dedupdb on the same subset (first $LIMIT docs of enwiki_extract)"
SUB="$DATA/corpus/enwiki_extract.jsonl.zst"
# The reference times its scan loop with perf_counter (wall); a copy timed
# with process_time gives its CPU seconds, comparable with ours on a busy machine.
sed 's/time\.perf_counter/time.process_time/g' "$REPO/../shared/tools/ngram_overlap_reference.py" > "$WORK/ref_cpu.py"
cpu /usr/bin/python3 "$WORK/ref_cpu.py" --evals "$DATA"/benchmarks/*.jsonl.zst \
  --corpus "$SUB" --limit "$LIMIT" --out "$WORK/ref.json"
grep -o '"scan_seconds": [0-9.]*, "scan_mb_per_s": [0-9.]*' "$WORK/ref.json" || true
cpu "$BUILD/dedupdb" -q --json decon scan --index "$WORK/evals.ddx" "$SUB" --limit "$LIMIT" --threads 1 | cut -c1-200
{ zstd -dc "$SUB" || true; } | head -n "$LIMIT" > "$WORK/subset.jsonl"
"$BUILD/bench/decon_bench" "$WORK/evals.ddx" "$WORK/subset.jsonl" --reps 3

if [ -n "$STORE" ]; then
  echo "== index-backed report on $STORE"
  cpu "$BUILD/dedupdb" -q decon report --index "$WORK/evals.ddx" --store "$STORE" --report-json "$WORK/sa.json" | head -1
  cpu "$BUILD/dedupdb" -q decon report --index "$WORK/evals.ddx" --store "$STORE" --mmap --report-json "$WORK/sa_mmap.json" | head -1
fi
