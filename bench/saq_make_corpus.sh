#!/bin/bash
# Corpora of chosen sizes for the suffix-array query and scaling benchmarks
# (docs/scaling.md), made from ../shared/data/corpus/*.jsonl.zst (~446 MB of
# document text, 196,442 docs):
#
#   saq_make_corpus.sh OUT.jsonl MB        MB <= 470: the first MB megabytes of
#                                          the JSONL stream (whole lines only;
#                                          ids prefixed "rep0/")
#   saq_make_corpus.sh OUT.jsonl 4300      more than the corpus: k = 0, 1, ...
#                                          concatenated copies, each copy's ids
#                                          prefixed "rep<k>/" so every doc id is
#                                          unique, cut at MB megabytes
#
# The copies repeat the text verbatim (the natural duplicates of the corpus,
# times k); counts of a query then scale with k. Deterministic: the files are
# read in sorted order.
set -euo pipefail
out=$1
mb=$2
here=$(cd "$(dirname "$0")" && pwd)
corpus=${CORPUS_DIR:-$here/../../shared/data/corpus}
bytes=$((mb * 1000000))
files=$(ls "$corpus"/*.jsonl.zst | sort)
{
  k=0
  while true; do
    # ids are the first field in every file: {"id": "...", "text": ...}
    zstd -dcq $files | sed "s/^{\"id\": \"/{\"id\": \"rep$k\\//" || exit 0
    k=$((k + 1))
  done
} 2>/dev/null | head -c "$bytes" | sed '$d' > "$out" || true
echo "$out: $(wc -l < "$out") docs, $(stat -c %s "$out") bytes of JSONL"
