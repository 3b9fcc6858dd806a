// Report computation and the three renderings. The HTML page is one file
// with inline CSS and SVG (no scripts, no external resources) so it opens
// anywhere, including from an archived CI artifact.
#include "query/decon_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "storage/json_writer.h"

namespace dedupdb {
namespace {

std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

void AppendHtmlEscaped(std::string* out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': *out += "&amp;"; break;
      case '<': *out += "&lt;"; break;
      case '>': *out += "&gt;"; break;
      case '"': *out += "&quot;"; break;
      case '\'': *out += "&#39;"; break;
      default: out->push_back(c);
    }
  }
}
std::string Esc(std::string_view s) {
  std::string out;
  AppendHtmlEscaped(&out, s);
  return out;
}

std::string CsvField(std::string_view s) {
  bool quote = s.find_first_of(",\"\n\r") != std::string_view::npos;
  if (!quote) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += "\"\"";
    else out.push_back(c);
  }
  return out + "\"";
}

// Cuts s to at most max bytes at a UTF-8 character boundary.
size_t Utf8Cut(std::string_view s, size_t max) {
  if (s.size() <= max) return s.size();
  while (max > 0 && (static_cast<unsigned char>(s[max]) & 0xC0) == 0x80) --max;
  return max;
}

bool Contaminated(const DeconExampleRow& e, double threshold) {
  return threshold <= 0 ? e.grams_found > 0 : e.fraction + 1e-12 >= threshold;
}

}  // namespace

DeconAccumulator::DeconAccumulator(const EvalIndex& index)
    : index_(&index),
      found_((index.num_grams() + 63) / 64, 0),
      docs_(index.num_examples(), 0),
      evidence_(index.num_examples()) {}

void DeconAccumulator::Add(const DeconResult& r, uint64_t doc_order, std::string_view doc_id, std::string_view source,
                           std::string_view text) {
  if (!r.contaminated()) return;
  for (const DeconGramHit& h : r.hits) MarkGramFound(h.gram);
  for (const DeconExampleHit& e : r.examples) {
    ++docs_[e.example];
    DeconExampleEvidence& ev = evidence_[e.example];
    if (doc_order >= ev.doc_order) continue;
    ev.doc_order = doc_order;
    ev.doc = std::string(doc_id);
    ev.source = std::string(source);
    // Snippet: the first hit of this example, with a little context.
    for (const DeconGramHit& h : r.hits) {
      const uint32_t* b = index_->postings_begin(h.gram);
      const uint32_t* en = index_->postings_end(h.gram);
      if (!std::binary_search(b, en, e.example)) continue;
      uint64_t from = h.begin > 80 ? h.begin - 80 : 0;
      uint64_t to = std::min<uint64_t>(text.size(), h.end + 80);
      while (from > 0 && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) --from;
      to = from + Utf8Cut(text.substr(from), to - from);
      ev.snippet = std::string(text.substr(from, to - from));
      break;
    }
  }
}

void DeconAccumulator::Merge(const DeconAccumulator& other) {
  for (size_t i = 0; i < found_.size(); ++i) found_[i] |= other.found_[i];
  for (size_t i = 0; i < docs_.size(); ++i) {
    docs_[i] += other.docs_[i];
    if (other.evidence_[i].doc_order < evidence_[i].doc_order) evidence_[i] = other.evidence_[i];
    else if (other.evidence_[i].longest_match_bytes > evidence_[i].longest_match_bytes &&
             evidence_[i].doc_order == UINT64_MAX)
      evidence_[i] = other.evidence_[i];
  }
}

DeconReport ComputeDeconReport(const DeconAccumulator& acc, const DeconReportOptions& options) {
  const EvalIndex& idx = acc.index();
  DeconReport rep;
  rep.options = options;
  std::vector<uint32_t> found(idx.num_examples(), 0);
  for (uint32_t g = 0; g < idx.num_grams(); ++g) {
    if (!acc.gram_found(g)) continue;
    for (const uint32_t* e = idx.postings_begin(g); e != idx.postings_end(g); ++e) ++found[*e];
  }
  for (uint32_t s = 0; s < idx.num_sets(); ++s) {
    EvalSetInfo info = idx.set(s);
    DeconSetRow row;
    row.name = std::string(info.name);
    row.set = s;
    row.examples = info.num_examples;
    double sum = 0;
    for (uint32_t e = info.first_example; e < info.first_example + info.num_examples; ++e) {
      uint32_t total = idx.example(e).num_grams;
      DeconExampleRow ex{e, found[e], total, total ? double(found[e]) / total : 0.0, acc.docs_for(e)};
      sum += ex.fraction;
      if (ex.grams_found == 0) continue;
      ++row.contaminated_any;
      if (Contaminated(ex, options.threshold)) ++row.contaminated_threshold;
      rep.examples.push_back(ex);
    }
    if (row.examples) {
      row.rate_any = double(row.contaminated_any) / row.examples;
      row.rate_threshold = double(row.contaminated_threshold) / row.examples;
      row.mean_fraction = sum / row.examples;
    }
    rep.sets.push_back(row);
  }
  return rep;
}

std::vector<DeconSpan> ExampleMatchedSpans(const DeconAccumulator& acc, uint32_t example) {
  const EvalIndex& idx = acc.index();
  std::vector<Word> words;
  idx.ExampleWords(example, &words);
  std::vector<DeconSpan> spans;
  if (words.empty()) return spans;
  std::vector<uint64_t> h(words.size());
  for (size_t i = 0; i < words.size(); ++i) h[i] = words[i].hash;
  size_t n = std::min<size_t>(idx.n(), words.size());
  for (size_t i = 0; i + n <= words.size(); ++i) {
    uint32_t g = idx.FindGram(HashNgram(h.data() + i, n));
    if (g == EvalIndex::kNotFound || !acc.gram_found(g)) continue;
    uint64_t b = words[i].begin, e = words[i + n - 1].end;
    if (!spans.empty() && b <= spans.back().end) spans.back().end = std::max(spans.back().end, e);
    else spans.push_back({b, e});
  }
  return spans;
}

std::string DeconReportJson(const DeconReport& rep, const DeconAccumulator& acc) {
  const EvalIndex& idx = acc.index();
  const DeconReportOptions& o = rep.options;
  JsonWriter w(false);
  w.BeginObject();
  w.Field("method", o.method);
  w.Field("corpus", o.corpus);
  w.Field("n", uint64_t{idx.n()});
  w.Field("normalization", NormalizationModeName(idx.mode()));
  w.Field("threshold", o.threshold);
  w.Field("corpus_docs", o.corpus_docs);
  w.Field("corpus_bytes", o.corpus_bytes);
  w.Field("flagged_docs", o.flagged_docs);
  w.Field("seconds", o.seconds);
  w.Key("sets").BeginArray();
  for (const DeconSetRow& s : rep.sets) {
    w.BeginObject();
    w.Field("name", s.name);
    w.Field("examples", s.examples);
    w.Field("contaminated_any", s.contaminated_any);
    w.Field("contaminated_at_threshold", s.contaminated_threshold);
    w.Field("rate_any", s.rate_any);
    w.Field("rate_at_threshold", s.rate_threshold);
    w.Field("mean_fraction", s.mean_fraction);
    w.EndObject();
  }
  w.EndArray();
  w.Key("examples").BeginArray();
  for (const DeconExampleRow& e : rep.examples) {
    EvalExampleInfo info = idx.example(e.example);
    const DeconExampleEvidence& ev = acc.evidence(e.example);
    w.BeginObject();
    w.Field("set", idx.set(info.set).name);
    w.Field("id", info.id);
    w.Field("grams_found", uint64_t{e.grams_found});
    w.Field("grams_total", uint64_t{e.grams_total});
    w.Field("fraction", e.fraction);
    w.Field("contaminated", Contaminated(e, o.threshold));
    w.Field("docs", e.docs);
    if (!ev.doc.empty()) {
      w.Field("doc", ev.doc);
      w.Field("source", ev.source);
      w.Field("snippet", ev.snippet);
    }
    if (ev.longest_match_bytes) w.Field("longest_match_bytes", ev.longest_match_bytes);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take() + "\n";
}

std::string DeconReportCsv(const DeconReport& rep, const DeconAccumulator& acc) {
  const EvalIndex& idx = acc.index();
  std::string out = "kind,set,id,examples_or_grams_total,contaminated_any_or_grams_found,rate_any_or_fraction,"
                    "contaminated_at_threshold,rate_at_threshold,docs,doc\n";
  for (const DeconSetRow& s : rep.sets) {
    out += "set," + CsvField(s.name) + ",," + std::to_string(s.examples) + "," + std::to_string(s.contaminated_any) +
           "," + Fmt("%.6f", s.rate_any) + "," + std::to_string(s.contaminated_threshold) + "," +
           Fmt("%.6f", s.rate_threshold) + ",,\n";
  }
  for (const DeconExampleRow& e : rep.examples) {
    EvalExampleInfo info = idx.example(e.example);
    bool c = Contaminated(e, rep.options.threshold);
    out += "example," + CsvField(idx.set(info.set).name) + "," + CsvField(info.id) + "," +
           std::to_string(e.grams_total) + "," + std::to_string(e.grams_found) + "," + Fmt("%.6f", e.fraction) + "," +
           (c ? "1" : "0") + ",," + std::to_string(e.docs) + "," + CsvField(acc.evidence(e.example).doc) + "\n";
  }
  return out;
}

std::string DeconReportHtml(const DeconReport& rep, const DeconAccumulator& acc) {
  const EvalIndex& idx = acc.index();
  const DeconReportOptions& o = rep.options;
  std::string thr = o.threshold <= 0 ? std::string("any ") + std::to_string(idx.n()) + "-gram"
                                     : "&ge; " + Fmt("%.0f", o.threshold * 100) + "% of grams";
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" + Esc(o.title) + "</title>\n";
  h += "<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}"
       "table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #bbb;padding:4px 8px;text-align:right}"
       "th{background:#e8eef7}td.l,th.l{text-align:left}mark{background:#ffb347}"
       ".ex{border:1px solid #ccc;padding:8px;margin:8px 0;white-space:pre-wrap;font-family:monospace;font-size:12px}"
       ".meta{color:#555;font-size:12px}h2{border-bottom:2px solid #4a78c2}</style>\n</head><body>\n";
  h += "<h1>" + Esc(o.title) + "</h1>\n";
  h += "<table id=\"summary\"><tr><th class=\"l\">corpus</th><td class=\"l\">" + Esc(o.corpus) + "</td></tr>";
  h += "<tr><th class=\"l\">method</th><td class=\"l\">" + Esc(o.method) + "</td></tr>";
  h += "<tr><th class=\"l\">n-gram</th><td class=\"l\">" + std::to_string(idx.n()) + " words (" +
       NormalizationModeName(idx.mode()) + ")</td></tr>";
  h += "<tr><th class=\"l\">contaminated if</th><td class=\"l\">" + thr + "</td></tr>";
  h += "<tr><th class=\"l\">documents</th><td class=\"l\">" + std::to_string(o.corpus_docs) + " (" +
       Fmt("%.1f", o.corpus_bytes / 1e6) + " MB), " + std::to_string(o.flagged_docs) + " flagged</td></tr></table>\n";

  // Overview chart: one bar per set (rate at threshold), inline SVG.
  const int bar_h = 18, label_w = 200, chart_w = 600;
  int svg_h = static_cast<int>(rep.sets.size()) * (bar_h + 6) + 30;
  h += "<h2>Contamination rate per benchmark</h2>\n<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
       std::to_string(label_w + chart_w + 80) + "\" height=\"" + std::to_string(svg_h) + "\">\n";
  double max_rate = 0;
  for (const DeconSetRow& s : rep.sets) max_rate = std::max(max_rate, s.rate_threshold);
  double scale_max = max_rate > 0 ? std::min(1.0, std::max(0.01, max_rate * 1.1)) : 1.0;
  for (size_t i = 0; i < rep.sets.size(); ++i) {
    const DeconSetRow& s = rep.sets[i];
    int y = static_cast<int>(i) * (bar_h + 6) + 4;
    int w = static_cast<int>(std::lround(s.rate_threshold / scale_max * chart_w));
    if (s.rate_threshold > 0 && w < 2) w = 2;
    h += "<text x=\"" + std::to_string(label_w - 6) + "\" y=\"" + std::to_string(y + 13) +
         "\" text-anchor=\"end\" font-size=\"12\">" + Esc(s.name) + "</text>";
    h += "<rect class=\"bar\" x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
         std::to_string(w) + "\" height=\"" + std::to_string(bar_h) + "\" fill=\"#d9534f\"/>";
    h += "<text x=\"" + std::to_string(label_w + w + 4) + "\" y=\"" + std::to_string(y + 13) + "\" font-size=\"11\">" +
         Fmt("%.2f%%", s.rate_threshold * 100) + "</text>\n";
  }
  int axis_y = static_cast<int>(rep.sets.size()) * (bar_h + 6) + 8;
  h += "<line x1=\"" + std::to_string(label_w) + "\" y1=\"" + std::to_string(axis_y) + "\" x2=\"" +
       std::to_string(label_w + chart_w) + "\" y2=\"" + std::to_string(axis_y) + "\" stroke=\"#333\"/>";
  h += "<text x=\"" + std::to_string(label_w + chart_w) + "\" y=\"" + std::to_string(axis_y + 14) +
       "\" text-anchor=\"end\" font-size=\"11\">" + Fmt("%.1f%%", scale_max * 100) + "</text></svg>\n";

  h += "<h2>Per benchmark</h2>\n<table id=\"sets\"><tr><th class=\"l\">benchmark</th><th>examples</th>"
       "<th>any gram</th><th>rate</th><th>" + thr + "</th><th>rate</th><th>mean fraction</th></tr>\n";
  for (const DeconSetRow& s : rep.sets) {
    h += "<tr><td class=\"l\"><a href=\"#set-" + std::to_string(s.set) + "\">" + Esc(s.name) + "</a></td><td>" +
         std::to_string(s.examples) + "</td><td>" + std::to_string(s.contaminated_any) + "</td><td>" +
         Fmt("%.2f%%", s.rate_any * 100) + "</td><td>" + std::to_string(s.contaminated_threshold) + "</td><td>" +
         Fmt("%.2f%%", s.rate_threshold * 100) + "</td><td>" + Fmt("%.4f", s.mean_fraction) + "</td></tr>\n";
  }
  h += "</table>\n";

  // Per set: histogram of overlap fractions + the most contaminated examples.
  for (const DeconSetRow& s : rep.sets) {
    std::vector<const DeconExampleRow*> rows;
    for (const DeconExampleRow& e : rep.examples) {
      if (idx.example(e.example).set == s.set) rows.push_back(&e);
    }
    h += "<h2 id=\"set-" + std::to_string(s.set) + "\">" + Esc(s.name) + "</h2>\n";
    h += "<p class=\"meta\">" + std::to_string(s.contaminated_any) + " of " + std::to_string(s.examples) +
         " examples have a matching gram; " + std::to_string(s.contaminated_threshold) + " meet the threshold.</p>\n";
    // Histogram: examples by fraction of grams found (10 bins, zero excluded).
    int bins[10] = {0};
    for (const DeconExampleRow* e : rows) bins[std::min(9, static_cast<int>(e->fraction * 10))]++;
    int maxb = 1;
    for (int b : bins) maxb = std::max(maxb, b);
    h += "<svg class=\"hist\" xmlns=\"http://www.w3.org/2000/svg\" width=\"420\" height=\"145\">";
    for (int b = 0; b < 10; ++b) {
      int bh = bins[b] * 90 / maxb;
      if (bins[b] > 0 && bh < 1) bh = 1;
      h += "<rect x=\"" + std::to_string(20 + b * 38) + "\" y=\"" + std::to_string(112 - bh) +
           "\" width=\"32\" height=\"" + std::to_string(bh) + "\" fill=\"#4a78c2\"/>";
      h += "<text x=\"" + std::to_string(36 + b * 38) + "\" y=\"" + std::to_string(108 - bh) +
           "\" text-anchor=\"middle\" font-size=\"10\">" + std::to_string(bins[b]) + "</text>";
      h += "<text x=\"" + std::to_string(36 + b * 38) + "\" y=\"126\" text-anchor=\"middle\" font-size=\"9\">" +
           std::to_string(b * 10) + "-" + std::to_string(b * 10 + 10) + "%</text>";
    }
    h += "<text x=\"210\" y=\"140\" text-anchor=\"middle\" font-size=\"10\">fraction of the example's grams found</text>"
         "</svg>\n";
    std::sort(rows.begin(), rows.end(), [](const DeconExampleRow* a, const DeconExampleRow* b) {
      return a->fraction != b->fraction ? a->fraction > b->fraction : a->example < b->example;
    });
    if (rows.size() > o.html_examples_per_set) rows.resize(o.html_examples_per_set);
    for (const DeconExampleRow* e : rows) {
      EvalExampleInfo info = idx.example(e->example);
      const DeconExampleEvidence& ev = acc.evidence(e->example);
      h += "<div class=\"meta\"><b>" + Esc(info.id) + "</b>: " + std::to_string(e->grams_found) + "/" +
           std::to_string(e->grams_total) + " grams (" + Fmt("%.1f%%", e->fraction * 100) + "), " +
           std::to_string(e->docs) + " docs";
      if (!ev.doc.empty()) h += "; first: " + Esc(ev.doc) + " in " + Esc(ev.source);
      if (ev.longest_match_bytes) h += "; longest verbatim match " + std::to_string(ev.longest_match_bytes) + " bytes";
      h += "</div>\n<div class=\"ex\">";
      std::string_view text = info.text;
      size_t limit = Utf8Cut(text, 3000);
      size_t pos = 0;
      for (const DeconSpan& sp : ExampleMatchedSpans(acc, e->example)) {
        if (sp.begin >= limit) break;
        AppendHtmlEscaped(&h, text.substr(pos, sp.begin - pos));
        size_t end = std::min<size_t>(sp.end, limit);
        h += "<mark>";
        AppendHtmlEscaped(&h, text.substr(sp.begin, end - sp.begin));
        h += "</mark>";
        pos = end;
      }
      AppendHtmlEscaped(&h, text.substr(pos, limit - pos));
      if (limit < text.size()) h += " &hellip;";
      h += "</div>\n";
    }
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace dedupdb
