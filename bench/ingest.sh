#!/usr/bin/env bash
# Ingest benchmark (docs/benchmarks.md, "Ingest (document store)").
#
#   bench/ingest.sh [BUILD_DIR] [WORK_DIR] [ROUNDS]
#
# Measures, side by side in alternating rounds on the same machine:
#   zstd -dc corpus/*.zst > /dev/null           baseline for the end-to-end build
#   dedupdb build S corpus/*.jsonl.zst          end to end (target <= 1.5x zstd -dc)
#   cat plain/*.jsonl > /dev/null               reading the decompressed JSONL
#   cat plain/*.jsonl | dd conv=fsync           the write floor: copy the bytes durably once
#   dedupdb build S plain/*.jsonl               excluding decompression (target >= 300 MB/s/core)
# then ingest_bench's per-phase split (read / hash / write / build), and peak
# RSS (/usr/bin/time -v) of a build of the corpus (1x) and of 4 distinct
# copies (4x, ids and texts prefixed so nothing is a duplicate of another copy).
# Needs ~3 GB free in WORK_DIR. Prints a summary table at the end.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$REPO/build-bench}
WORK=${2:-/tmp/dedupdb_ingest_bench}
ROUNDS=${3:-3}
CORPUS=$(cd "$REPO/../shared/data/corpus" && pwd)

if [[ ! -x $BUILD/dedupdb || ! -x $BUILD/bench/ingest_bench ]]; then
  cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target dedupdb_cli ingest_bench >/dev/null
fi
DEDUPDB=$BUILD/dedupdb
BENCH=$BUILD/bench/ingest_bench
mkdir -p "$WORK/plain"
ZST=("$CORPUS"/*.jsonl.zst)

echo "== preparing decompressed copies in $WORK/plain" >&2
for f in "${ZST[@]}"; do
  out=$WORK/plain/$(basename "$f" .zst)
  [[ -s $out ]] || zstd -q -dc "$f" >"$out"
done
PLAIN=("$WORK"/plain/*.jsonl)
PLAIN_BYTES=$(cat "${PLAIN[@]}" | wc -c)

# now_s: wall clock in seconds with ns resolution.
now_s() { date +%s.%N; }
# timed NAME CMD...: runs CMD, appends "NAME wall user+sys maxrss_kb" to $WORK/times.
timed() {
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.tmp" "$@" >/dev/null
  read -r wall user sys rss <"$WORK/time.tmp"
  echo "$name $wall $(echo "$user + $sys" | bc -l) $rss" >>"$WORK/times"
}

: >"$WORK/times"
for ((r = 1; r <= ROUNDS; r++)); do
  echo "== round $r/$ROUNDS" >&2
  timed zstd_dc bash -c 'zstd -q -dc "$@" >/dev/null' _ "${ZST[@]}"
  rm -rf "$WORK/s_zst"
  timed build_zst "$DEDUPDB" -q build "$WORK/s_zst" "${ZST[@]}"
  timed cat_plain bash -c 'cat "$@" >/dev/null' _ "${PLAIN[@]}"
  timed copy_fsync bash -c 'cat "${@:2}" | dd of="$1" bs=4M conv=fsync status=none' _ "$WORK/copy.tmp" "${PLAIN[@]}"
  rm -f "$WORK/copy.tmp"
  rm -rf "$WORK/s_plain"
  timed build_plain "$DEDUPDB" -q build "$WORK/s_plain" "${PLAIN[@]}"
done
rm -rf "$WORK/s_zst"

echo "== per-phase split (ingest_bench)" >&2
"$BENCH" --store "$WORK/s_bench" "${PLAIN[@]}" | tee "$WORK/phases.jsonl"

echo "== peak RSS at 1x and 4x" >&2
mkdir -p "$WORK/x4"
for c in 1 2 3 4; do
  for f in "${PLAIN[@]}"; do
    out=$WORK/x4/c$c-$(basename "$f")
    # Distinct ids and texts: prefix the first "id" and "text" value of each line.
    [[ -s $out ]] || sed -e "s/\"id\": \"/\"id\": \"c$c\//" -e "s/\"text\": \"/\"text\": \"copy $c: /" "$f" >"$out"
  done
done
X4_BYTES=$(cat "$WORK"/x4/*.jsonl | wc -c)
rm -rf "$WORK/s_plain" "$WORK/s_x4"
# sampled NAME CMD...: like timed, and also samples /proc/PID/status every
# 0.1 s for the peak anonymous (heap) and file-backed (mmap) resident sizes,
# since VmHWM counts the catalog's LMDB map pages, which the kernel can drop.
sampled() {
  local name=$1
  shift
  "$@" >/dev/null &
  local pid=$! anon=0 file=0 a f
  while kill -0 $pid 2>/dev/null; do
    a=$(awk '/^RssAnon:/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
    f=$(awk '/^RssFile:/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
    ((${a:-0} > anon)) && anon=$a
    ((${f:-0} > file)) && file=$f
    sleep 0.1
  done
  wait $pid
  echo "$name $anon $file" >>"$WORK/rss_split"
}
: >"$WORK/rss_split"
timed rss_1x "$DEDUPDB" -q build "$WORK/s_plain" "${PLAIN[@]}"
timed rss_4x "$DEDUPDB" -q build "$WORK/s_x4" "$WORK"/x4/*.jsonl
rm -rf "$WORK/s_plain" "$WORK/s_x4"
sampled rss_1x "$DEDUPDB" -q build "$WORK/s_plain" "${PLAIN[@]}"
sampled rss_4x "$DEDUPDB" -q build "$WORK/s_x4" "$WORK"/x4/*.jsonl
"$DEDUPDB" --json info "$WORK/s_x4" >"$WORK/x4_info.json"
rm -rf "$WORK/s_plain" "$WORK/s_x4"

echo
echo "== summary (median of $ROUNDS rounds; MB = 10^6 bytes)"
python3 - "$WORK/times" "$PLAIN_BYTES" "$X4_BYTES" "$WORK/phases.jsonl" "$WORK/x4_info.json" "$WORK/rss_split" <<'PY'
import json, statistics, sys
times, plain_bytes, x4_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = {}
for line in open(times):
    name, wall, cpu, rss = line.split()
    rows.setdefault(name, []).append((float(wall), float(cpu), int(rss)))
def med(name, i): return statistics.median(r[i] for r in rows[name])
mb = plain_bytes / 1e6
print(f"decoded JSONL: {mb:.1f} MB in 7 files; 4x copy: {x4_bytes/1e6:.1f} MB")
print(f"{'run':<12} {'wall s':>8} {'cpu s':>8} {'MB/s wall':>10} {'MB/s cpu':>9}")
for name in ["zstd_dc", "build_zst", "cat_plain", "copy_fsync", "build_plain"]:
    w, c = med(name, 0), med(name, 1)
    print(f"{name:<12} {w:8.2f} {c:8.2f} {mb / w:10.1f} {mb / max(c, 1e-9):9.1f}")
print(f"ratio build_zst / zstd_dc (wall):       {med('build_zst', 0) / med('zstd_dc', 0):.2f}x  (target <= 1.5x)")
print(f"ratio build_plain / copy_fsync (wall):  {med('build_plain', 0) / med('copy_fsync', 0):.2f}x")
print(f"build_plain MB/s per core (cpu time):   {mb / med('build_plain', 1):.0f}  (target >= 300)")
print(f"build_plain MB/s (wall, 1 thread):      {mb / med('build_plain', 0):.0f}")
for line in open(sys.argv[4]):
    p = json.loads(line)
    print(f"phase {p['phase']:<6} wall {p['wall_s']:6.2f} s  cpu {p['cpu_s']:6.2f} s  "
          f"{p['mb_per_wall_s']:7.1f} MB/s wall  {p['mb_per_cpu_s']:7.1f} MB/s cpu")
info = json.load(open(sys.argv[5]))
print(f"peak RSS 1x build: {rows['rss_1x'][0][2] / 1024:.0f} MiB ({mb:.0f} MB input, wall {rows['rss_1x'][0][0]:.1f} s)")
print(f"peak RSS 4x build: {rows['rss_4x'][0][2] / 1024:.0f} MiB ({x4_bytes/1e6:.0f} MB input, {info['docs']} docs, "
      f"{info['exact_duplicate_docs']} exact dups, wall {rows['rss_4x'][0][0]:.1f} s)")
for line in open(sys.argv[6]):
    name, anon, file = line.split()
    print(f"{name}: peak RssAnon {int(anon) / 1024:.0f} MiB, peak RssFile {int(file) / 1024:.0f} MiB (sampled every 0.1 s)")
PY
