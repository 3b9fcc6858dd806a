#!/usr/bin/env bash
# Exact-substring dedup benchmark (docs/benchmarks.md, "Exact-substring dedup").
#
#   bench/exact_dedup.sh BUILD_DIR [WORK_DIR] [CORPUS_GLOB...]
#
# Builds a store from the corpus (default: ../shared/data/corpus/*.jsonl.zst,
# ~470 MB of text), its suffix-array index (the baseline the dedup is compared
# with), then runs dedup-exact at k = 50, 100, 200 bytes, each under
# /usr/bin/time -v, and prints a markdown summary: wall time, peak RSS, the
# ratio dedup time / SA build time, and bytes removed per sub-corpus.
# Env: MEM (index-sa --memory, default 4G), DEDUP_MEM (dedup-exact --memory,
# default 2G), KS (default "50 100 200"), WRITE=1 also writes the k=100 corpus,
# REUSE=1 keeps WORK/store and its index (and their timings) from a previous run,
# METHODS (default "anchors merge") the dedup-exact methods run one after the
# other at each k (their range files must be identical: the script checks).
# The machine is shared: compare CPU seconds (user + sys) as well as wall time.
set -euo pipefail
BUILD=${1:?usage: bench/exact_dedup.sh BUILD_DIR [WORK_DIR] [CORPUS...]}
WORK=${2:-${TMPDIR:-/tmp}/dedupdb-bench-exact-dedup}
shift $(( $# >= 2 ? 2 : 1 ))
HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then set -- "$HERE"/../../shared/data/corpus/*.jsonl.zst; fi
CLI=$BUILD/dedupdb
MEM=${MEM:-4G}
DEDUP_MEM=${DEDUP_MEM:-2G}
KS=${KS:-50 100 200}
METHODS=${METHODS:-anchors merge}
mkdir -p "$WORK"

run() {  # run NAME CMD...: stdout -> NAME.json, time -v -> NAME.time
  local name=$1; shift
  /usr/bin/time -v "$@" > "$WORK/$name.json" 2> "$WORK/$name.time"
}
if [ "${REUSE:-0}" != 1 ]; then
  rm -rf "$WORK/store"
  run build "$CLI" -q --json build "$WORK/store" "$@"
  run index "$CLI" -q --json index-sa "$WORK/store" --memory "$MEM"
fi
for k in $KS; do
  for m in $METHODS; do
    extra=()
    if [ "${WRITE:-0}" = 1 ] && [ "$k" = 100 ]; then extra=(--write "$WORK/dedup_${m}_k100.jsonl.zst"); fi
    run "dedup_${m}_k$k" "$CLI" -q --json dedup-exact "$WORK/store" --min-len "$k" --memory "$DEDUP_MEM" \
        --method "$m" --ranges "$WORK/ranges_${m}_k$k.ddr" "${extra[@]}"
  done
  first=""
  for m in $METHODS; do
    if [ -z "$first" ]; then first=$m; continue; fi
    cmp "$WORK/ranges_${first}_k$k.ddr" "$WORK/ranges_${m}_k$k.ddr" \
      || { echo "k=$k: $m and $first range files differ" >&2; exit 1; }
  done
done

/usr/bin/python3 - "$WORK" "$METHODS" $KS <<'PY'
import json, re, sys
work, methods, ks = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
def tv(name):
    t = open(f"{work}/{name}.time").read()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", t).group(1)
    parts = [float(x) for x in wall.split(":")]
    secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    cpu = float(re.search(r"User time \(seconds\): (.*)", t).group(1)) + \
        float(re.search(r"System time \(seconds\): (.*)", t).group(1))
    return secs, rss, cpu
def js(name):
    return json.loads(open(f"{work}/{name}.json").read())
idx = js("index"); isec, irss, icpu = tv("index")
print(f"index-sa: {idx['input_bytes']/1e6:.1f} MB, {idx['shards']} shard(s), wall {isec:.1f} s, "
      f"CPU {icpu:.1f} s, peak RSS {irss:.0f} MiB")
print()
print("| k | method | wall s | CPU s | peak RSS MiB | dedup / SA build (wall) | dedup / SA build (CPU) | removed bytes | removed % | docs touched | docs emptied | passes | spill runs |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
per = {}
for k in ks:
    for m in methods:
        d = js(f"dedup_{m}_k{k}"); sec, rss, cpu = tv(f"dedup_{m}_k{k}")
        print(f"| {k} | {d['method']} | {sec:.1f} | {cpu:.1f} | {rss:.0f} | **{sec/isec:.2f}** | {cpu/icpu:.2f} | "
              f"{d['removed']} | {100*d['removed_fraction']:.2f} | {d['docs_touched']} | {d['docs_emptied']} | "
              f"{d['anchor_passes']} | {d['spill_runs']} |")
    for p in d["per_source"]:
        per.setdefault(p["source"], {"bytes": p["bytes"]})[k] = p["bytes_removed"]
print()
print("| sub-corpus | MB | " + " | ".join(f"removed k={k}" for k in ks) + " |")
print("|---|---|" + "---|" * len(ks))
for src, v in per.items():
    cells = " | ".join(f"{v[k]/1e6:.2f} MB ({100*v[k]/max(v['bytes'],1):.1f}%)" for k in ks)
    print(f"| {src} | {v['bytes']/1e6:.1f} | {cells} |")
PY
