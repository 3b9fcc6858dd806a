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
# Copy k > 0 also varies its text: " the ", " of ", " and " become " the<k> ",
# " of<k> ", " and<k> ". Verbatim copies would make every suffix share a
# prefix hundreds of MB long with its twins in the other copies, which is the
# worst case of suffix sorting (divsufsort ran > 5x slower per byte on a
# verbatim 4.3 GB build, which we stopped) and unlike a real corpus; with the
# markers, repeats across copies are bounded by the distance between two
# common words, while word statistics stay those of natural text.
# Deterministic: the files are read in sorted order.
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
    if [ $k -eq 0 ]; then vary=""; else vary="s/ the / the$k /g; s/ of / of$k /g; s/ and / and$k /g;"; fi
    zstd -dcq $files | sed "s/^{\"id\": \"/{\"id\": \"rep$k\\//; $vary" || exit 0
    k=$((k + 1))
  done
} 2>/dev/null | head -c "$bytes" | sed '$d' > "$out" || true
echo "$out: $(wc -l < "$out") docs, $(stat -c %s "$out") bytes of JSONL"
