#!/bin/bash
# MinHash / LSH near-dedup benchmark: dedupdb next to the Python reference
# (../shared/tools/minhash_reference.py) on the same documents, same machine,
# same moment; results are ratios (the machine is shared and noisy).
#
#   bench/minhash.sh [section...]    sections: sig lsh planted corpus wiki (default: all)
#
# Env: BUILD (default build-mh), OUT (default /tmp/minhash_bench), N_SIG
# (docs for the signature race, default 5000), N_LSH (default 100000),
# BASE_BENCH (optional: a minhash_bench binary of an earlier commit, run in
# the same alternated rounds of the sig and lsh sections for a side-by-side
# ratio against the previous code).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-mh}
DATA=${DATA:-$ROOT/../shared/data}
REF=${REF:-$ROOT/../shared/tools/minhash_reference.py}
OUT=${OUT:-/tmp/minhash_bench}
N_SIG=${N_SIG:-5000}
N_LSH=${N_LSH:-100000}
BENCH=$BUILD/bench/minhash_bench
CLI=$BUILD/dedupdb
PY=/usr/bin/python3
mkdir -p "$OUT"
SECTIONS=${*:-sig lsh planted corpus wiki}
# rss NAME cmd...: runs cmd; writes its peak anonymous RSS (heap, not the
# page cache of memory-mapped store files) in KB to $OUT/NAME.rss, sampled
# from /proc/PID/status every 10 ms, and its peak total RSS to $OUT/NAME.hwm.
# The reference, with its timer switched to CPU time (time.process_time):
# per-core cost, like ours (minhash_bench measures CPU time too).
REFCMD=($PY -c 'import runpy, sys, time; time.perf_counter = time.process_time; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")' "$REF")
rss() {
  $PY -c '
import subprocess, sys, time
p = subprocess.Popen(sys.argv[3:])
peak = hwm = 0
while p.poll() is None:
    try:
        for l in open("/proc/%d/status" % p.pid):
            if l.startswith("RssAnon:"): peak = max(peak, int(l.split()[1]))
            if l.startswith("VmHWM:"): hwm = max(hwm, int(l.split()[1]))
    except OSError: pass
    time.sleep(0.01)
open(sys.argv[1], "w").write(str(peak)); open(sys.argv[2], "w").write(str(hwm))
sys.exit(p.returncode)' "$OUT/$1.rss" "$OUT/$1.hwm" "${@:2}"
}

for s in $SECTIONS; do case $s in
sig)
  # Signature throughput, one core, K=128, 5-word shingles, enwiki docs.
  F=$DATA/corpus/enwiki_extract.jsonl.zst
  # Three alternating rounds; the best round of each side is compared.
  : > "$OUT/sig_ours.jsonl"; : > "$OUT/sig_ref.jsonl"; : > "$OUT/sig_base.jsonl"
  for round in 1 2 3; do
    $BENCH sig "$F" --limit "$N_SIG" | tee -a "$OUT/sig_ours.jsonl"
    [ -n "${BASE_BENCH:-}" ] && "$BASE_BENCH" sig "$F" --limit "$N_SIG" | tee -a "$OUT/sig_base.jsonl"
    "${REFCMD[@]}" dedup "$F" --limit "$N_SIG" | tail -1 | tee -a "$OUT/sig_ref.jsonl"
  done
  $PY - "$OUT" <<'PY'
import json, sys
o = max((json.loads(l) for l in open(sys.argv[1] + "/sig_ours.jsonl")), key=lambda x: x["minhasher_mb_per_s"])
r = max((json.loads(l) for l in open(sys.argv[1] + "/sig_ref.jsonl")), key=lambda x: x["signature_mb_per_s"])
print("signatures: ours %.1f MB/s (%s, MinHasher end to end) vs reference %.2f MB/s -> %.0fx; kernel alone %.1f MB/s, "
      "shingling alone %.1f MB/s"
      % (o["minhasher_mb_per_s"], o["minhasher_level"], r["signature_mb_per_s"],
         o["minhasher_mb_per_s"] / r["signature_mb_per_s"], o[o["minhasher_level"]]["kernel_mb_per_s"],
         o["shingle_mb_per_s"]))
base = [json.loads(l) for l in open(sys.argv[1] + "/sig_base.jsonl")]
if base:
    b = max(base, key=lambda x: x["minhasher_mb_per_s"])
    print("previous code (BASE_BENCH), same rounds: %.1f MB/s end to end, kernel %.1f MB/s -> ours %.2fx / %.2fx"
          % (b["minhasher_mb_per_s"], b[b["minhasher_level"]]["kernel_mb_per_s"],
             o["minhasher_mb_per_s"] / b["minhasher_mb_per_s"],
             o[o["minhasher_level"]]["kernel_mb_per_s"] / b[b["minhasher_level"]]["kernel_mb_per_s"]))
PY
  ;;
lsh)
  # Insert + query of N_LSH docs (imdb has 100k) and peak RSS; the reference
  # keeps signatures and tables in RAM, ours streams them to disk.
  F=$DATA/corpus/imdb_reviews.jsonl.zst
  # Our insert + query phases take only ~30 ms of CPU per 100k docs, so one
  # busy neighbour can double them: three alternated rounds, the best round
  # of each side is compared (as for signatures).
  : > "$OUT/lsh_ours_rounds.jsonl"; : > "$OUT/lsh_ref_rounds.jsonl"; : > "$OUT/lsh_base_rounds.jsonl"
  for round in 1 2 3; do
    rss lsh_ours $BENCH lsh "$F" --limit "$N_LSH" --memory 256M --tmp "$OUT" | tee -a "$OUT/lsh_ours_rounds.jsonl"
    [ -n "${BASE_BENCH:-}" ] && "$BASE_BENCH" lsh "$F" --limit "$N_LSH" --memory 256M --tmp "$OUT" | tee -a "$OUT/lsh_base_rounds.jsonl"
    rss lsh_ref "${REFCMD[@]}" dedup "$F" --limit "$N_LSH" | tail -1 | tee -a "$OUT/lsh_ref_rounds.jsonl"
  done
  for side in ours ref; do
    $PY -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(json.dumps(max(rows, key=lambda x: x["lsh_insert_query_docs_per_s"])))' "$OUT/lsh_${side}_rounds.jsonl" > "$OUT/lsh_$side.json"
  done
  rss lsh_ref_base "${REFCMD[@]}" dedup "$F" --limit 1000 > /dev/null
  # Ours through the CLI: peak RSS of the index build and of dedup-near.
  rm -rf "$OUT/imdb_store"
  $CLI -q build "$OUT/imdb_store" "$F" > /dev/null
  rss cli_index $CLI -q --json index-lsh "$OUT/imdb_store" --memory 64M --threads 1 > "$OUT/cli_index.json"
  rss cli_dedup $CLI -q --json dedup-near "$OUT/imdb_store" --out "$OUT/imdb_dedup" --memory 64M > "$OUT/cli_dedup.json"
  $PY - "$OUT" "$N_LSH" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
o = json.load(open(d + "/lsh_ours.json")); r = json.load(open(d + "/lsh_ref.json"))
rr = lambda k: int(open(d + "/" + k + ".rss").read().split()[-1])
print("insert+query %d docs: ours %.0f docs/s (%.0f with fsync + publish) vs reference %.0f docs/s -> %.0fx (%.0fx)"
      % (o["docs"], o["lsh_insert_query_docs_per_s"], o["lsh_insert_query_durable_docs_per_s"],
         r["lsh_insert_query_docs_per_s"], o["lsh_insert_query_docs_per_s"] / r["lsh_insert_query_docs_per_s"],
         o["lsh_insert_query_durable_docs_per_s"] / r["lsh_insert_query_docs_per_s"]))
ref_per_doc = (rr("lsh_ref") - rr("lsh_ref_base")) * 1024.0 / (r["docs"] - 1000)
ci, cd = rr("cli_index"), rr("cli_dedup")
print("reference peak anon RSS %d MB (index memory %.0f B/doc); ours: index-lsh peak RSS %d MB, dedup-near %d MB, "
      "index on disk %.0f B/doc" % (rr("lsh_ref") // 1024, ref_per_doc, ci // 1024, cd // 1024, o["index_disk_bytes_per_doc"]))
print("ours peak anon RSS per doc: index-lsh %.0f B/doc, dedup-near %.0f B/doc -> %.0fx / %.0fx less than the reference"
      % (ci * 1024.0 / o["docs"], cd * 1024.0 / o["docs"], ref_per_doc / (ci * 1024.0 / o["docs"]), ref_per_doc / (cd * 1024.0 / o["docs"])))
print("point queries on the 100k index (CPU): by doc id %.1f us, by text %.1f us (incl. shingling + signature)"
      % (o["query_by_doc_us"], o["query_by_text_us"]))
print("candidates: ours %d pairs / removed %d; reference %d pairs / removed %d"
      % (o["candidate_pairs"], o["removed_docs"], r["candidate_pairs"], r["removed_docs"]))
base = [json.loads(l) for l in open(d + "/lsh_base_rounds.jsonl")]
if base:
    b = max(base, key=lambda x: x["lsh_insert_query_docs_per_s"])
    print("previous code (BASE_BENCH), same rounds: %.0f docs/s (bucket %.1f ms, dedup %.1f ms) -> %.0fx the reference; "
          "ours %.2fx faster (bucket %.1f ms, dedup %.1f ms)"
          % (b["lsh_insert_query_docs_per_s"], b["bucket_cpu_seconds"] * 1e3, b["dedup_cpu_seconds"] * 1e3,
             b["lsh_insert_query_docs_per_s"] / r["lsh_insert_query_docs_per_s"],
             o["lsh_insert_query_docs_per_s"] / b["lsh_insert_query_docs_per_s"],
             o["bucket_cpu_seconds"] * 1e3, o["dedup_cpu_seconds"] * 1e3))
PY
  ;;
planted)
  $BENCH planted "$DATA/corpus/bbc_news.jsonl.zst" --limit 2225 --tmp "$OUT" --keep "$OUT" | tee "$OUT/planted.json"
  # The reference on the same planted docs, scored against the same truth.
  for t in 0.7 0.8 0.9; do
    for mode in estimated exact; do
      flag=""; [ $mode = exact ] && flag=--exact
      "${REFCMD[@]}" dedup "$OUT/planted.jsonl" --threshold $t $flag --out "$OUT/ref_pairs_${t}_$mode.jsonl" | tail -1 \
        > "$OUT/ref_planted_${t}_$mode.json"
    done
  done
  $PY - "$OUT" <<'PY'
import json, sys
d = sys.argv[1]
truth = {round(json.loads(l)["threshold"], 1): set(json.loads(l)["removed"]) for l in open(d + "/planted_truth.jsonl")}
for t in ("0.7", "0.8", "0.9"):
    for mode in ("estimated", "exact"):
        parent = {}
        def find(x):
            while parent.get(x, x) != x:
                x = parent[x]
            return x
        for l in open("%s/ref_pairs_%s_%s.jsonl" % (d, t, mode)):
            p = json.loads(l); a, b = find(int(p["a"])), find(int(p["b"]))
            if a != b: parent[max(a, b)] = min(a, b)
        removed = {x for x in parent if find(x) != x}
        tr = truth[float(t)]; inter = len(removed & tr)
        r = json.load(open("%s/ref_planted_%s_%s.json" % (d, t, mode)))
        print("reference planted t=%s %s (%dx%d): removed %d, precision %.3f, recall %.3f"
              % (t, mode, r["bands"], r["rows"], len(removed), inter / max(1, len(removed)), inter / max(1, len(tr))))
PY
  ;;
corpus)
  # The whole corpus (7 files, ~470 MB, 196k docs): index with an 8 MiB sort
  # budget (band entries spill), then batch near-dedup with a 4 MiB budget
  # (2 MiB pair buffer; the union-find of the ~91k clustered docs takes 3 MiB
  # of what is left once the pairs spilled): the 425k candidate pair records
  # (6.8 MB) do not fit and spill to disk. Then the same dedup with 1 GiB.
  rm -rf "$OUT/corpus_store" "$OUT/corpus_dedup" "$OUT/corpus_dedup_big"
  $CLI -q build "$OUT/corpus_store" "$DATA"/corpus/*.jsonl.zst > /dev/null
  rss corpus_index $CLI -q --json index-lsh "$OUT/corpus_store" --memory 8M | tee "$OUT/corpus_index.json"
  rss corpus_dedup $CLI -q --json dedup-near "$OUT/corpus_store" --out "$OUT/corpus_dedup" --memory 4M --exact \
    | tee "$OUT/corpus_dedup.json"
  rss corpus_dedup_big $CLI -q --json dedup-near "$OUT/corpus_store" --out "$OUT/corpus_dedup_big" --memory 1G --exact \
    | tee "$OUT/corpus_dedup_big.json"
  cmp "$OUT/corpus_dedup/removed.roaring" "$OUT/corpus_dedup_big/removed.roaring" && echo "same removed set with 4M and 1G"
  echo "peak anon RSS: index-lsh (8M budget) $(cat "$OUT/corpus_index.rss") KB, dedup-near (4M) $(cat "$OUT/corpus_dedup.rss") KB," \
       "dedup-near (1G) $(cat "$OUT/corpus_dedup_big.rss") KB"
  $PY - "$OUT/corpus_dedup/removed.jsonl" <<'PY'
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
src = collections.Counter(r["id"].split("/")[0] if "/" in r["id"] else r["id"].split(":")[0] for r in rows)
print("removed by id prefix:", dict(src.most_common(10)))
for r in [x for x in rows if x["similarity"] < 1][:8]:
    print("  example: %s ~ kept %s (Jaccard %.3f)" % (r["id"], r["kept_id"], r["similarity"]))
PY
  ;;
wiki)
  # enwiki: runs AA/ and Temp/ should pair up by wiki_id.
  rm -rf "$OUT/wiki_store" "$OUT/wiki_dedup"
  $CLI -q build "$OUT/wiki_store" "$DATA/corpus/enwiki_extract.jsonl.zst" > /dev/null
  $CLI -q --json index-lsh "$OUT/wiki_store" > "$OUT/wiki_index.json"
  $CLI -q --json dedup-near "$OUT/wiki_store" --out "$OUT/wiki_dedup" --exact | tee "$OUT/wiki_dedup.json"
  zstd -dc "$DATA/corpus/enwiki_extract.jsonl.zst" | $PY -c '
import json, sys
ids = [json.loads(l)["id"] for l in sys.stdin]  # doc id = line number (fresh store)
doc = {i: d for d, i in enumerate(ids)}
cluster = list(range(len(ids)))
rows = [json.loads(l) for l in open(sys.argv[1])]
for r in rows: cluster[r["doc"]] = r["cluster"]
pairs = [(doc[i], doc["Temp/" + i[3:]]) for i in ids if i.startswith("AA/") and "Temp/" + i[3:] in doc]
same = sum(1 for a, b in pairs if cluster[a] == cluster[b])
twin = sum(1 for r in rows if r["id"].split("/", 1)[1] == r["kept_id"].split("/", 1)[1])
print("enwiki: %d removed docs; %d of %d wiki_id pairs (AA/ + Temp/) in one cluster; %d docs removed in favour of their own twin"
      % (len(rows), same, len(pairs), twin))' "$OUT/wiki_dedup/removed.jsonl"
  ;;
*) echo "unknown section $s" >&2; exit 2 ;;
esac; done
