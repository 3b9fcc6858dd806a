#!/usr/bin/env bash
# Token-mode (u16) index size and build on a pseudo-tokenised corpus
# (docs/benchmarks.md, "Suffix-array build and queries"). Usage:
#   bench/sa_tokens.sh [BUILD_DIR=build-sa] [WORK=/tmp/sa_tokens]
# The "tokenizer" maps each whitespace-separated word of enwiki_extract to
# crc32(word) % 65535 and ends each document with id 65535; it only stands in
# for a real tokenizer to measure bytes of index per u16 token, and the count
# of one 4-token query is checked against numpy.
set -euo pipefail
BUILD=${1:-build-sa}
WORK=${2:-/tmp/sa_tokens}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=$ROOT/$BUILD/dedupdb
mkdir -p "$WORK"
/usr/bin/python3 - "$ROOT/../shared/data/corpus/enwiki_extract.jsonl.zst" "$WORK/enwiki.u16.bin" <<'PY'
import array, json, subprocess, sys, zlib
p = subprocess.Popen(["zstd", "-dc", sys.argv[1]], stdout=subprocess.PIPE)
a = array.array("H")
for line in p.stdout:
    a.extend(zlib.crc32(w.encode()) % 65535 for w in json.loads(line)["text"].split())
    a.append(65535)
with open(sys.argv[2], "wb") as f:
    a.tofile(f)
print(len(a), "tokens")
PY
rm -rf "$WORK/store"
/usr/bin/time -v "$CLI" --json --quiet index-sa "$WORK/store" --tokens "$WORK/enwiki.u16.bin" --dtype u16 \
  --separator 65535 --memory 8G > "$WORK/build.json" 2> "$WORK/build.time"
cat "$WORK/build.json"
grep -E "Maximum resident|Elapsed|User time|System time" "$WORK/build.time"
Q=$(/usr/bin/python3 -c 'import zlib; print(" ".join(str(zlib.crc32(w.encode()) % 65535) for w in "of the United States".split()))')
"$CLI" --json count "$WORK/store" "$Q"
/usr/bin/python3 - "$WORK/enwiki.u16.bin" "$Q" <<'PY'
import sys, numpy as np
a = np.fromfile(sys.argv[1], dtype="<u2"); q = [int(x) for x in sys.argv[2].split()]
m = np.ones(len(a) - len(q) + 1, dtype=bool)
for i, t in enumerate(q): m &= a[i:len(a) - len(q) + 1 + i] == t
print("numpy count:", int(m.sum()))
PY
