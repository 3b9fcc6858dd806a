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
# 5. token mode: eval sets and a corpus slice mapped to token ids, CheckTokens
#    and `decon scan --tokens`;
# 6. with a store that has a suffix-array index: `decon report` (io_uring
#    batches and mmap binary searches).
# BASE=OTHER_BUILD_DIR (optional): step 2 and the subset run alternate the
# base and this build side by side (ROUNDS pairs, default 3), each on an eval
# index built by its own `dedupdb` (the file format may differ).
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

if [ -n "${BASE:-}" ]; then
  echo "== base build's eval index ($BASE)"
  "$BASE/dedupdb" --json decon index --out "$WORK/evals_base.ddx" "$DATA"/benchmarks/*.jsonl.zst | cut -c1-120
fi
# side_by_side ARGS...: decon_bench ARGS with the base and this build alternated.
side_by_side() {
  for r in $(seq "${ROUNDS:-3}"); do
    echo -n "base: "; "$BASE/bench/decon_bench" "$WORK/evals_base.ddx" "$@"
    echo -n "new:  "; "$BUILD/bench/decon_bench" "$WORK/evals.ddx" "$@"
  done
}

echo "== warm one-core check (corpus in memory)"
if [ -n "${BASE:-}" ]; then
  side_by_side "$DATA/corpus/" --max-mb "${MAX_MB:-200}" --reps 2
else
  "$BUILD/bench/decon_bench" "$WORK/evals.ddx" "$DATA/corpus/" --max-mb "${MAX_MB:-200}" --reps 2
fi

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
if [ -n "${BASE:-}" ]; then
  side_by_side "$WORK/subset.jsonl" --reps 3
else
  "$BUILD/bench/decon_bench" "$WORK/evals.ddx" "$WORK/subset.jsonl" --reps 3
fi

echo "== token mode: the same texts as token ids (a word -> id vocabulary), CheckTokens in memory"
# Words normalised as lm-eval does (lower case, ASCII punctuation deleted,
# whitespace split) get ids 1.. in first-seen order; 0 separates documents.
mkdir -p "$WORK/tok_evals"
/usr/bin/python3 - "$DATA" "$WORK" "${TOKEN_DOCS:-20000}" <<'PY'
import json, string, subprocess, sys, glob, os
import numpy as np
data, work, ndocs = sys.argv[1], sys.argv[2], int(sys.argv[3])
vocab = {}
table = str.maketrans('', '', string.punctuation)
def ids(text):
    return [vocab.setdefault(w, len(vocab) + 1) for w in text.lower().translate(table).split()]
for path in sorted(glob.glob(data + '/benchmarks/*.jsonl.zst')):
    name = os.path.basename(path)[:-len('.jsonl.zst')]
    lines = subprocess.run(['zstd', '-dc', path], capture_output=True, check=True).stdout.decode().split('\n')
    with open(f'{work}/tok_evals/{name}.jsonl', 'w') as out:
        for k, line in enumerate(l for l in lines if l.strip()):
            out.write(json.dumps({'id': k, 'tokens': ids(json.loads(line).get('text', ''))}) + '\n')
corpus = subprocess.run(f'zstd -dc {data}/corpus/enwiki_extract.jsonl.zst | head -n {ndocs}', shell=True,
                        capture_output=True).stdout.decode().split('\n')
toks = []
for line in (l for l in corpus if l.strip()):
    toks += ids(json.loads(line)['text']) + [0]
np.save(f'{work}/tok_corpus.npy', np.array(toks, dtype='<u4'))
print(f'vocab {len(vocab)}, corpus {len(corpus)} docs, {len(toks)} tokens')
PY
cpu "$BUILD/dedupdb" --json decon index --tokens --fields tokens --out "$WORK/tok_evals.ddx" "$WORK"/tok_evals/*.jsonl
"$BUILD/bench/decon_bench" "$WORK/tok_evals.ddx" "$WORK/tok_corpus.npy" --separator 0 --reps 3
cpu "$BUILD/dedupdb" -q --json decon scan --index "$WORK/tok_evals.ddx" --tokens "$WORK/tok_corpus.npy" --separator 0 \
  --threads 1 | cut -c1-200

if [ -n "$STORE" ]; then
  echo "== index-backed report on $STORE"
  cpu "$BUILD/dedupdb" -q decon report --index "$WORK/evals.ddx" --store "$STORE" --report-json "$WORK/sa.json" | head -1
  cpu "$BUILD/dedupdb" -q decon report --index "$WORK/evals.ddx" --store "$STORE" --mmap --report-json "$WORK/sa_mmap.json" | head -1
fi
