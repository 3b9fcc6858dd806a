// Overlap reports: JSON/CSV agree with the scan, and the HTML page renders in
// headless Chromium (DOM has the chart bars, the tables and highlighted
// matches; the screenshot has the bar and table colours where they belong).
#include <gtest/gtest.h>
#include <simdjson.h>
#include <zlib.h>

#include <cstdlib>
#include <sstream>

#include "index/eval_index.h"
#include "index/eval_set.h"
#include "query/decon_report.h"
#include "query/decon_scan.h"
#include "query/decontaminator.h"
#include "storage/json_writer.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::JsonLine;

using test::TempDir;
using test::WriteFile;

// Minimal PNG reader (8-bit RGB/RGBA, non-interlaced: what Chromium writes).
struct Image {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;  // 3 bytes per pixel
};
bool DecodePng(const std::string& png, Image* img) {
  if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return false;
  auto be32 = [&](size_t p) {
    return (uint32_t(uint8_t(png[p])) << 24) | (uint32_t(uint8_t(png[p + 1])) << 16) |
           (uint32_t(uint8_t(png[p + 2])) << 8) | uint8_t(png[p + 3]);
  };
  std::string idat;
  int depth = 0, color = 0, interlace = 0;
  for (size_t p = 8; p + 8 <= png.size();) {
    uint32_t len = be32(p);
    std::string type = png.substr(p + 4, 4);
    if (p + 12 + len > png.size()) return false;
    if (type == "IHDR") {
      img->w = be32(p + 8);
      img->h = be32(p + 12);
      depth = uint8_t(png[p + 16]);
      color = uint8_t(png[p + 17]);
      interlace = uint8_t(png[p + 20]);
    } else if (type == "IDAT") {
      idat.append(png, p + 8, len);
    }
    p += 12 + len;
  }
  if (depth != 8 || (color != 2 && color != 6) || interlace != 0) return false;
  const int bpp = color == 6 ? 4 : 3;
  const size_t stride = size_t(img->w) * bpp;
  std::vector<uint8_t> raw((stride + 1) * img->h);
  uLongf raw_len = raw.size();
  if (uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK) return false;
  std::vector<uint8_t> cur(stride), prev(stride, 0);
  img->rgb.resize(size_t(img->w) * img->h * 3);
  for (int y = 0; y < img->h; ++y) {
    const uint8_t* line = &raw[y * (stride + 1)];
    uint8_t f = line[0];
    for (size_t x = 0; x < stride; ++x) {
      int a = x >= size_t(bpp) ? cur[x - bpp] : 0, b = prev[x], c = x >= size_t(bpp) ? prev[x - bpp] : 0;
      int v = line[1 + x];
      switch (f) {
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) / 2; break;
        case 4: {
          int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          v += (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
          break;
        }
        default: break;
      }
      cur[x] = static_cast<uint8_t>(v);
    }
    for (int x = 0; x < img->w; ++x)
      for (int k = 0; k < 3; ++k) img->rgb[(size_t(y) * img->w + x) * 3 + k] = cur[x * bpp + k];
    prev.swap(cur);
  }
  return true;
}

size_t CountColor(const Image& img, int r, int g, int b, int tol) {
  size_t n = 0;
  for (size_t i = 0; i + 2 < img.rgb.size(); i += 3) {
    if (std::abs(img.rgb[i] - r) <= tol && std::abs(img.rgb[i + 1] - g) <= tol && std::abs(img.rgb[i + 2] - b) <= tol) ++n;
  }
  return n;
}

std::string FindChromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (Env::Default()->FileExists(p)) return p;
  }
  return "";
}

// A scanned fixture: two sets, a corpus where set "alpha" is half planted.
struct Scanned {
  TempDir dir;
  Decontaminator d;
  std::unique_ptr<DeconAccumulator> acc;
  DeconScanStats st;
};

void ScanFixture(Scanned* s) {
  std::string a, b, corpus;
  for (int i = 0; i < 10; ++i) {
    // Unique words per example, so no gram is shared between examples.
    std::string t = "alpha question <the> & quick brown fox";
    for (int k = 0; k < 14; ++k) t += " w" + std::to_string(i) + "x" + std::to_string(k);
    a += JsonLine("a" + std::to_string(i), t);
    if (i % 2 == 0) corpus += JsonLine("doc" + std::to_string(i), "Some intro. " + t + " Some outro.");
  }
  for (int i = 0; i < 8; ++i) {
    std::string t = "beta item";
    for (int k = 0; k < 14; ++k) t += " v" + std::to_string(i) + "y" + std::to_string(k);
    b += JsonLine("b" + std::to_string(i), t);
  }
  corpus += JsonLine("clean", "nothing to see here at all");
  WriteFile(s->dir.Sub("alpha.jsonl"), a);
  WriteFile(s->dir.Sub("beta.jsonl"), b);
  WriteFile(s->dir.Sub("corpus.jsonl"), corpus);
  std::vector<EvalSetSpec> specs(2);
  ASSERT_TRUE(ParseEvalSetArg(s->dir.Sub("alpha.jsonl"), {}, &specs[0]).ok());
  ASSERT_TRUE(ParseEvalSetArg(s->dir.Sub("beta.jsonl"), {}, &specs[1]).ok());
  ASSERT_TRUE(BuildEvalIndex(Env::Default(), specs, EvalIndexOptions(), s->dir.Sub("e.ddx"), nullptr).ok());
  ASSERT_TRUE(Decontaminator::Open(s->dir.Sub("e.ddx"), &s->d).ok());
  s->acc = std::make_unique<DeconAccumulator>(s->d.index());
  DeconScanOptions so;
  so.inputs = {s->dir.Sub("corpus.jsonl")};
  so.threads = 2;
  ASSERT_TRUE(RunDeconScan(Env::Default(), s->d, so, s->acc.get(), &s->st).ok());
}

TEST(DeconReport, JsonAndCsvAgreeWithScan) {
  Scanned s;
  ScanFixture(&s);
  ASSERT_EQ(s.st.flagged_docs, 5u);
  DeconReportOptions ro;
  ro.threshold = 0.5;
  DeconReport rep = ComputeDeconReport(*s.acc, ro);
  ASSERT_EQ(rep.sets.size(), 2u);
  EXPECT_EQ(rep.sets[0].name, "alpha");
  EXPECT_EQ(rep.sets[0].examples, 10u);
  EXPECT_EQ(rep.sets[0].contaminated_any, 5u);
  EXPECT_EQ(rep.sets[0].contaminated_threshold, 5u);  // planted whole: fraction 1
  EXPECT_DOUBLE_EQ(rep.sets[0].rate_any, 0.5);
  EXPECT_EQ(rep.sets[1].contaminated_any, 0u);
  simdjson::dom::parser parser;
  std::string json = DeconReportJson(rep, *s.acc);
  simdjson::dom::element root = parser.parse(json);
  EXPECT_EQ(uint64_t(root["sets"].at(0)["contaminated_any"]), 5u);
  EXPECT_EQ(root["examples"].get_array().size(), 5u);
  for (simdjson::dom::element e : root["examples"].get_array()) {
    EXPECT_DOUBLE_EQ(double(e["fraction"]), 1.0);
    EXPECT_EQ(std::string_view(e["set"]), "alpha");
    EXPECT_NE(std::string_view(e["snippet"]).find("quick brown fox"), std::string_view::npos);
  }
  std::string csv = DeconReportCsv(rep, *s.acc);
  size_t lines = std::count(csv.begin(), csv.end(), '\n');
  EXPECT_EQ(lines, 1u + 2u + 5u);  // header, sets, examples
}

TEST(DeconReport, HtmlRendersInHeadlessChromium) {
  std::string chromium = FindChromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium not installed (apt-get install chromium) - HTML render check skipped";
  Scanned s;
  ScanFixture(&s);
  DeconReportOptions ro;
  ro.threshold = 0.5;
  DeconReport rep = ComputeDeconReport(*s.acc, ro);
  std::string html = DeconReportHtml(rep, *s.acc);
  WriteFile(s.dir.Sub("report.html"), html);
  // The special characters of the examples are escaped.
  EXPECT_NE(html.find("&lt;the&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<the>"), std::string::npos);

  std::vector<std::string> base = {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                                   "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                   "--disable-sync", "--user-data-dir=" + s.dir.Sub("profile"),
                                   "--window-size=1200,1600"};
  std::string url = "file://" + s.dir.Sub("report.html");
  // DOM as Chromium parsed it.
  std::vector<std::string> dom_cmd = base;
  dom_cmd.insert(dom_cmd.end(), {"--dump-dom", url});
  std::string dom, err;
  ASSERT_EQ(test::RunCommand(dom_cmd, &dom, &err), 0) << err;
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t p = dom.find(needle); p != std::string::npos; p = dom.find(needle, p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("<svg id=\"chart\""), 1u);
  EXPECT_EQ(count("class=\"bar\""), 2u);        // one bar per set
  EXPECT_EQ(count("<table id=\"sets\""), 1u);
  EXPECT_EQ(count("<tr>"), 5u + 3u);            // summary rows + sets table (header + 2)
  EXPECT_EQ(count("<svg class=\"hist\""), 2u);  // a histogram per set
  EXPECT_GE(count("<mark>"), 5u);               // matched words highlighted
  // Screenshot: the red bar and the blue table header are drawn.
  std::vector<std::string> shot_cmd = base;
  shot_cmd.insert(shot_cmd.end(), {"--screenshot=" + s.dir.Sub("shot.png"), url});
  ASSERT_EQ(test::RunCommand(shot_cmd, &dom, &err), 0) << err;
  Image img;
  ASSERT_TRUE(DecodePng(test::ReadFile(s.dir.Sub("shot.png")), &img));
  EXPECT_EQ(img.w, 1200);
  size_t bar = CountColor(img, 0xd9, 0x53, 0x4f, 6);
  size_t header = CountColor(img, 0xe8, 0xee, 0xf7, 3);
  size_t mark = CountColor(img, 0xff, 0xb3, 0x47, 6);
  // alpha's bar: 50% of 600 px wide (the scale tops out at 55%), 18 px high.
  EXPECT_GT(bar, 400u * 15u) << "bar chart not rendered";
  EXPECT_GT(header, 2000u) << "tables not rendered";
  EXPECT_GT(mark, 1000u) << "highlighted matches not rendered";
}

}  // namespace
}  // namespace dedupdb
