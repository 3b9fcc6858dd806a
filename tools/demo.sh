#!/usr/bin/env bash
# The main job on an embedded default corpus: every Debian machine's license
# texts and package copyright files (full of exact and near duplicates).
# Usage: bash tools/demo.sh PATH/TO/dedupdb [WORKDIR]
set -euo pipefail
DEDUPDB=${1:?usage: demo.sh DEDUPDB [WORKDIR]}
WORK=${2:-$(mktemp -d /tmp/dedupdb-demo.XXXXXX)}
STORE="$WORK/store"
has() { "$DEDUPDB" --help 2>/dev/null | grep -qE "^  $1( |$)"; }
say() { printf '\n== %s ==\n' "$*"; }

rm -rf "$STORE"
say "ingest /usr/share/common-licenses and /usr/share/doc/*/copyright"
# The glob is quoted: dedupdb expands it itself (one reader for every input kind).
"$DEDUPDB" build "$STORE" '/usr/share/common-licenses/*' '/usr/share/doc/*/copyright'

say "store summary (exact duplicates come from the content hash)"
"$DEDUPDB" info "$STORE"
"$DEDUPDB" verify -q "$STORE"

if has index-sa; then
  say "suffix-array index and exact-substring queries"
  "$DEDUPDB" index-sa -q "$STORE"
  "$DEDUPDB" count "$STORE" "GNU General Public License"
  "$DEDUPDB" locate "$STORE" "Permission is hereby granted, free of charge" --limit 3
fi
if has dedup-exact; then
  say "exact-substring dedup: spans of >= 200 bytes that occur more than once"
  "$DEDUPDB" dedup-exact -q "$STORE" --min-len 200 --top 5 --ranges-jsonl "$WORK/exact-ranges.jsonl"
fi
if has index-lsh; then
  say "near-duplicate documents (MinHash + LSH, Jaccard >= 0.8)"
  "$DEDUPDB" index-lsh -q "$STORE" --threshold 0.8
  "$DEDUPDB" dedup-near -q "$STORE" --threshold 0.8 --out "$WORK/near"
  echo "first clusters (removed doc -> kept representative):"
  head -n 5 "$WORK/near/removed.jsonl"
fi
if has decon; then
  say "decontamination: which copyright files contain passages of the GPL-3 text"
  # An "eval set" made of GPL-3 paragraphs, to show the scan and report.
  python3 - "$WORK/evals.jsonl" <<'PY'
import json, sys
paras = [p.strip() for p in open("/usr/share/common-licenses/GPL-3", encoding="utf-8").read().split("\n\n") if len(p.split()) > 20]
with open(sys.argv[1], "w") as f:
    for i, p in enumerate(paras[:40]):
        f.write(json.dumps({"id": f"gpl3-{i}", "text": p}) + "\n")
PY
  "$DEDUPDB" decon index -q --out "$WORK/evals.ddx" "$WORK/evals.jsonl"
  "$DEDUPDB" decon scan -q --index "$WORK/evals.ddx" --store "$STORE" --flagged "$WORK/decon-flagged.jsonl" \
    --report-json "$WORK/decon-report.json" --report-csv "$WORK/decon-report.csv" --report-html "$WORK/decon-report.html"
  echo "report: $WORK/decon-report.html (open in a browser)"
fi
say "done: outputs in $WORK"
