// Text normalisation against Python as the oracle: kLmEval must equal
// ngram_overlap_reference.py's words() (translate + str.split()), kWords must
// equal minhash_reference.py's re.findall(r"\w+", text.lower()).
#include "index/text_normalize.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <fstream>
#include <set>
#include <functional>
#include <cmath>
#include <bit>
#include <algorithm>
#include <random>
#include <tuple>
#include <string>
#include <vector>

#include "index/text_normalize_simd.h"
#include "storage/cpu_features.h"
#include "tests/test_util.h"

namespace dedupdb {
namespace {

using test::RunCommand;
using test::TempDir;
using test::WriteFile;

// Hand-crafted edge cases (UTF-8).
std::vector<std::string> EdgeCases() {
  return {
      "",
      " ",
      "\t\n\r\v\f  ",
      "Hello, World!",
      "hello world",
      "It's a well-known fact: e-mail (E-Mail) costs $5.00; 100% (!!)",
      "  multiple   spaces\t\ttabs\n\nnewlines  ",
      "---- *** ,,, ...",  // only punctuation
      "a-b a - b a--b -a- _under_score_",
      "\xC2\xA0nbsp\xC2\xA0sep\xE2\x80\x83" "em\xE2\x80\x89thin\xE3\x80\x80ideo\xE2\x80\xA8ls\xE2\x80\xA9ps",
      "x\x1cy\x1dz\x1eq\x1fr\xC2\x85nel\xE1\x9A\x80ogham\xE2\x80\xAFnnbsp\xE2\x81\x9Fmm",
      "zero\xE2\x80\x8Bwidth joiner\xE2\x80\x8D here",  // ZWSP/ZWJ: not whitespace
      "Caf\xC3\xA9 na\xC3\xAFve \xC3\x89" "COLE \xC3\x85ngstr\xC3\xB6m \xC3\x9F STRASSE",
      "\xC5\x81\xC3\xB3" "d\xC5\xBA \xC5\xBB\xC3\xB3\xC5\x82w \xC4\xB0stanbul \xC4\xB1\xC4\xB0I",
      "\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3 \xCE\xA3 \xCE\xA3\xCE\x91\xCE\xA3. \xCE\x91\xCE\xA3\xCE\xA3\xCE\x9F\xCE\xA3!",
      "\xD0\x9F\xD0\xA0\xD0\x98\xD0\x92\xD0\x95\xD0\xA2, \xD0\xBC\xD0\xB8\xD1\x80! \xD0\x81\xD0\xBB\xD0\xBA\xD0\xB0",
      "\xE2\x80\x9C" "curly quotes\xE2\x80\x9D \xE2\x80\x94 em\xE2\x80\x94" "dash \xC2\xAB" "guillemets\xC2\xBB \xC2\xBFQu\xC3\xA9?",
      "\xE4\xB8\xAD\xE6\x96\x87\xE3\x80\x82\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xEF\xBC\x8C\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4",
      "emoji \xF0\x9F\x98\x80 smile\xF0\x9F\x98\x80" "x \xC2\xB2 \xC2\xBD \xE2\x85\xA0 \xE2\x91\xA0",
      "e\xCC\x81 decomposed cafe\xCC\x81",
      "x\xC2\xB7y \xC2\xA9 2024 \xC3\x97 \xC3\xB7 \xC2\xB5m \xC2\xAA\xC2\xBA",
      "MiXeD CaSe WoRdS 123ABC abc_DEF",
      "tab\tinside\x0bvt\x0c" "ff",
      "ctrl\x01" "char\x7f" "del",
      "A. B. C. D. E. F. G. H. I. J. K. L. M. N.",
  };
}

// Random strings over an alphabet that mixes every class of interest.
std::vector<std::string> RandomCases(size_t count, uint32_t seed) {
  static const std::vector<std::string> alphabet = {
      "a", "b", "Z", "Q", "0", "7", "_", "-", ".", ",", "'", "!", " ", "  ", "\t", "\n",
      "\xC3\xA9", "\xC3\x89", "\xCE\xA3", "\xCF\x83", "\xD0\x96", "\xD0\xB6", "\xC2\xA0", "\xE2\x80\x83",
      "\xE2\x80\x94", "\xE2\x80\x9C", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80", "\xC4\xB0", "\xC5\x81", "\x1f", "\xE3\x80\x80"};
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    std::string s;
    size_t len = rng() % 40;
    for (size_t j = 0; j < len; ++j) s += alphabet[rng() % alphabet.size()];
    out.push_back(s);
  }
  return out;
}

// Runs the Python oracle: one input per line (JSON-escaped), one output line
// per input with the words separated by U+001F (never inside a word).
std::vector<std::vector<std::string>> PythonWords(const std::vector<std::string>& cases, bool lm_eval) {
  TempDir dir;
  std::string input;
  for (const std::string& c : cases) {
    std::string hex;
    for (unsigned char ch : c) {
      static const char* digits = "0123456789abcdef";
      hex.push_back(digits[ch >> 4]);
      hex.push_back(digits[ch & 15]);
    }
    input += hex + "\n";
  }
  WriteFile(dir.Sub("in.txt"), input);
  const char* script = R"PY(
import re, string, sys
TABLE = str.maketrans(string.ascii_uppercase, string.ascii_lowercase, string.punctuation)
WORD = re.compile(r"\w+", re.UNICODE)
lm = sys.argv[2] == "lm"
out = []
for line in open(sys.argv[1]):
    text = bytes.fromhex(line.strip()).decode("utf-8")
    ws = text.translate(TABLE).split() if lm else WORD.findall(text.lower())
    out.append("\x1f".join(ws).encode("utf-8").hex())
sys.stdout.write("\n".join(out) + "\n")
)PY";
  WriteFile(dir.Sub("oracle.py"), script);
  std::string out, err;
  int rc = RunCommand({"/usr/bin/python3", dir.Sub("oracle.py"), dir.Sub("in.txt"), lm_eval ? "lm" : "words"}, &out, &err);
  EXPECT_EQ(rc, 0) << err;
  std::vector<std::vector<std::string>> result;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    std::string hex = out.substr(pos, nl - pos), bytes;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    std::vector<std::string> words;
    size_t s = 0;
    if (!bytes.empty()) {
      for (;;) {
        size_t e = bytes.find('\x1f', s);
        words.push_back(bytes.substr(s, e == std::string::npos ? std::string::npos : e - s));
        if (e == std::string::npos) break;
        s = e + 1;
      }
    }
    result.push_back(words);
    pos = nl + 1;
  }
  return result;
}

// Oracle of the word hash (text_normalize.h), written independently of the
// library: the word zero-padded byte by byte, the 128-bit product from 32-bit
// limbs; XXH3-64 for words longer than 16 bytes.
uint64_t WordHashOracle(const std::string& w) {
  if (w.size() > 16) return XXH3_64bits(w.data(), w.size());
  uint64_t lo = 0, hi = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const uint64_t byte = static_cast<unsigned char>(w[i]);
    if (i < 8) lo |= byte << (8 * i);
    else hi |= byte << (8 * (i - 8));
  }
  const uint64_t a = lo ^ 0x1CAD21F72C81017Cull, b = hi ^ 0xDB979083E96DD4DEull;
  // 64 x 64 -> 128 from 32-bit limbs.
  const uint64_t a0 = a & 0xFFFFFFFF, a1 = a >> 32, b0 = b & 0xFFFFFFFF, b1 = b >> 32;
  const uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFF) + (p10 & 0xFFFFFFFF);
  const uint64_t low = (mid << 32) | (p00 & 0xFFFFFFFF);
  const uint64_t high = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  uint64_t swapped = 0;
  for (int i = 0; i < 8; ++i) swapped |= ((a >> (8 * i)) & 0xFF) << (8 * (7 - i));
  uint64_t acc = w.size() + swapped + b + (low ^ high);
  acc ^= acc >> 37;
  acc *= 0x165667919E3779F9ull;
  return acc ^ (acc >> 32);
}

void CheckAgainstPython(NormalizationMode mode, const std::vector<std::string>& cases) {
  auto expected = PythonWords(cases, mode == NormalizationMode::kLmEval);
  ASSERT_EQ(expected.size(), cases.size());
  WordTokenizer tok(mode);
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<std::string> words;
    tok.NormalizedWords(cases[i], &words);
    EXPECT_EQ(words, expected[i]) << NormalizationModeName(mode) << " case " << i << ": \"" << cases[i] << "\"";
    // Tokenize agrees with NormalizedWords: hashes of the same strings, and
    // spans that lie inside the text in increasing order.
    std::vector<Word> toks;
    tok.Tokenize(cases[i], &toks);
    ASSERT_EQ(toks.size(), words.size());
    uint32_t last_end = 0;
    for (size_t j = 0; j < toks.size(); ++j) {
      EXPECT_EQ(toks[j].hash, WordHashOracle(words[j]));
      EXPECT_LE(last_end, toks[j].begin);
      EXPECT_LT(toks[j].begin, toks[j].end);
      EXPECT_LE(toks[j].end, cases[i].size());
      last_end = toks[j].end;
    }
  }
}

TEST(TextNormalize, LmEvalMatchesPythonOnEdgeCases) { CheckAgainstPython(NormalizationMode::kLmEval, EdgeCases()); }
TEST(TextNormalize, WordsMatchesPythonOnEdgeCases) { CheckAgainstPython(NormalizationMode::kWords, EdgeCases()); }
TEST(TextNormalize, LmEvalMatchesPythonOnRandomStrings) {
  CheckAgainstPython(NormalizationMode::kLmEval, RandomCases(test::Scaled(2000, 300), 7));
}
TEST(TextNormalize, WordsMatchesPythonOnRandomStrings) {
  CheckAgainstPython(NormalizationMode::kWords, RandomCases(test::Scaled(2000, 300), 11));
}

TEST(TextNormalize, SpansCoverOriginalWords) {
  WordTokenizer lm(NormalizationMode::kLmEval);
  std::string text = "  Hello,\xC2\xA0World!  x";
  std::vector<Word> w;
  lm.Tokenize(text, &w);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(text.substr(w[0].begin, w[0].end - w[0].begin), "Hello,");
  EXPECT_EQ(text.substr(w[1].begin, w[1].end - w[1].begin), "World!");
  EXPECT_EQ(text.substr(w[2].begin, w[2].end - w[2].begin), "x");
  EXPECT_EQ(w[0].hash, HashWord("hello"));
  WordTokenizer words(NormalizationMode::kWords);
  words.Tokenize(text, &w);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(text.substr(w[0].begin, w[0].end - w[0].begin), "Hello");
  EXPECT_EQ(w[1].hash, HashWord("world"));
  EXPECT_EQ(lm.Normalize(" A-b  C. "), "ab c");
}

TEST(TextNormalize, InvalidUtf8NeverCrashesAndStaysInBounds) {
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 32, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    for (NormalizationMode m : {NormalizationMode::kWords, NormalizationMode::kLmEval}) {
      std::vector<Word> w;
      WordTokenizer(m).Tokenize(s, &w);
      for (const Word& x : w) {
        ASSERT_LT(x.begin, x.end);
        ASSERT_LE(x.end, s.size());
      }
    }
  }
}

TEST(TextNormalize, NgramHashesAreXxh3OfWordHashes) {
  uint64_t h[3] = {HashWord("a"), HashWord("b"), HashWord("c")};
  unsigned char bytes[24];
  for (int i = 0; i < 3; ++i)
    for (int b = 0; b < 8; ++b) bytes[i * 8 + b] = static_cast<unsigned char>(h[i] >> (8 * b));
  EXPECT_EQ(HashNgram(h, 3), XXH3_64bits(bytes, 24));
  Word w[3] = {{h[0], 0, 1}, {h[1], 2, 3}, {h[2], 4, 5}};
  EXPECT_EQ(HashWordNgram(w, 3), HashNgram(h, 3));
  EXPECT_NE(HashNgram(h, 2), HashNgram(h + 1, 2));
}

// HashNgram's inlined XXH3 (17..128 bytes written out per n) equals the
// library's XXH3_64bits over the little-endian bytes for every n, on random
// and extreme word hashes; ShingleHashes equals Tokenize + XXH3 per window.
TEST(TextNormalize, NgramHashesEqualLibraryXxh3EveryN) {
  std::mt19937_64 rng(77);
  std::vector<uint64_t> h(40);
  for (int round = 0; round < 200; ++round) {
    for (auto& x : h) x = rng();
    if (round % 5 == 0) h[round % 40] = 0, h[(round + 1) % 40] = ~uint64_t{0};
    for (size_t n = 1; n <= 20; ++n) {
      const size_t at = rng() % (h.size() - n + 1);
      ASSERT_EQ(HashNgram(h.data() + at, n), XXH3_64bits(h.data() + at, n * 8)) << "n=" << n;
    }
  }
  // The AVX-512 bulk kernel alone (8 windows per instruction), every n and
  // counts around its block size.
  if (DetectSimdLevel() >= SimdLevel::kAvx512) {
    std::vector<uint64_t> got(64, 0);
    for (size_t n = 1; n <= 20; ++n) {
      for (size_t count : {0ul, 1ul, 7ul, 8ul, 9ul, 16ul, 21ul}) {
        if (count + n > h.size()) continue;
        const size_t done = text_internal::NgramHashesAvx512(h.data(), count, n, text_internal::Xxh3SecretWords(),
                                                             got.data());
        ASSERT_EQ(done, n >= 3 && n <= 16 ? count / 8 * 8 : 0) << n;
        for (size_t i = 0; i < done; ++i) ASSERT_EQ(got[i], XXH3_64bits(h.data() + i, n * 8)) << n << " " << i;
      }
    }
  } else {
    std::printf("note: no AVX-512, the bulk n-gram kernel is not compared\n");
  }
  const std::string text =
      "The quick brown fox jumps over the lazy dog; Über-große Straße, naïve café! 12 34 56 78 90 ab cd ef gh ij "
      "kl mn op qr st uv wx yz and some more words to make twenty or so";
  WordTokenizer tok;
  std::vector<Word> words;
  tok.Tokenize(text, &words);
  ASSERT_GT(words.size(), 30u);
  for (unsigned n : {1u, 2u, 3u, 5u, 8u, 13u, 16u, 17u, 25u}) {
    ShingleOptions opt;
    opt.n = n;
    std::vector<uint64_t> got;
    ShingleHashes(text, opt, &got);
    ASSERT_EQ(got.size(), words.size() - n + 1) << n;
    for (size_t i = 0; i < got.size(); ++i) {
      std::vector<uint64_t> window;
      for (size_t k = 0; k < n; ++k) window.push_back(words[i + k].hash);
      ASSERT_EQ(got[i], XXH3_64bits(window.data(), n * 8)) << "n=" << n << " i=" << i;
    }
  }
}

// Word hashes equal the oracle at every length (the tokeniser hashes short
// words from its padded buffer with two masked loads, HashWord copies them),
// pinned values (computed by a separate Python implementation of the
// definition), and the parallel-array form equals Tokenize.
TEST(TextNormalize, WordHashDefinitionAtEveryLength) {
  const std::pair<const char*, uint64_t> pinned[] = {
      {"hello", 0xF7D6ACA0DB5D14F4ull}, {"a", 0x7618C49AA87B8C0Aull}, {"abcdefghijklmnop", 0xA2AF43B7CD3CBC31ull},
      {"", 0xD60D3E2EA33C1759ull}, {"12345678", 0x2CAD6B488731618Eull}, {"na\xC3\xAFve", 0x1E968FDC62C94191ull}};
  for (const auto& [w, v] : pinned) {
    EXPECT_EQ(HashWord(w), v) << w;
    EXPECT_EQ(WordHashOracle(w), v) << w;
  }
  std::mt19937 rng(8);
  for (size_t len = 0; len <= 40; ++len) {
    for (int k = 0; k < 50; ++k) {
      std::string w(len, '\0');
      for (char& c : w) c = static_cast<char>(rng());
      ASSERT_EQ(HashWord(w), WordHashOracle(w)) << len;
    }
  }
  std::string text;
  for (size_t len = 1; len <= 40; ++len) text += std::string(len, static_cast<char>('a' + len % 26)) + (len % 3 ? " " : ", ");
  text += "MiXed CASE words, with punct-uation! \xC3\x89t\xC3\xA9 (\xE2\x80\x9Cquoted\xE2\x80\x9D)";
  for (NormalizationMode mode : {NormalizationMode::kLmEval, NormalizationMode::kWords}) {
    WordTokenizer tok(mode);
    std::vector<Word> words;
    std::vector<std::string> norm;
    tok.Tokenize(text, &words);
    tok.NormalizedWords(text, &norm);
    ASSERT_EQ(words.size(), norm.size());
    WordHashes wh;
    tok.TokenizeHashes(text, &wh);
    ASSERT_EQ(wh.size(), words.size());
    for (size_t i = 0; i < words.size(); ++i) {
      EXPECT_EQ(words[i].hash, WordHashOracle(norm[i])) << norm[i];
      EXPECT_EQ(words[i].hash, HashWord(norm[i]));
      EXPECT_EQ(wh.hashes()[i], words[i].hash);
      EXPECT_EQ(wh.begins()[i], words[i].begin);
      EXPECT_EQ(wh.ends()[i], words[i].end);
    }
  }
  // Growth past the initial capacity keeps earlier words.
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "a ";
  WordHashes wh;
  WordTokenizer(NormalizationMode::kLmEval).TokenizeHashes(many, &wh);
  ASSERT_EQ(wh.size(), 5000u);
  for (size_t i = 0; i < wh.size(); ++i) {
    ASSERT_EQ(wh.hashes()[i], HashWord("a"));
    ASSERT_EQ(wh.begins()[i], 2 * i);
  }
}

// The word hash's distribution: no collisions among ~600k distinct short
// words (every word of 1-4 letters plus random ones up to 16 bytes), the
// expected number of collisions on the low 32 bits and on the high 32 bits
// (birthday bound), and avalanche: each input bit flips each output bit with
// probability ~1/2.
TEST(TextNormalize, WordHashDistribution) {
  std::vector<std::string> words;
  const std::string letters = "abcdefghijklmnopqrstuvwxyz";
  std::string w;
  std::function<void(size_t)> gen = [&](size_t left) {
    if (!w.empty()) words.push_back(w);
    if (left == 0) return;
    for (char c : letters) {
      w.push_back(c);
      gen(left - 1);
      w.pop_back();
    }
  };
  gen(test::SmallScale() ? 3 : 4);
  std::mt19937 rng(9);
  std::set<std::string> extra;
  while (extra.size() < test::Scaled(100000, 20000)) {
    std::string r(5 + rng() % 12, '\0');
    for (char& c : r) c = static_cast<char>(rng());
    extra.insert(r);
  }
  words.insert(words.end(), extra.begin(), extra.end());
  std::vector<uint64_t> h, lo32, hi32;
  for (const std::string& x : words) h.push_back(HashWord(x));
  for (uint64_t x : h) {
    lo32.push_back(x & 0xFFFFFFFF);
    hi32.push_back(x >> 32);
  }
  auto collisions = [](std::vector<uint64_t> v) {
    std::sort(v.begin(), v.end());
    size_t c = 0;
    for (size_t i = 1; i < v.size(); ++i) c += v[i] == v[i - 1];
    return c;
  };
  EXPECT_EQ(collisions(h), 0u);
  const double expected = double(words.size()) * (words.size() - 1) / 2 / 4294967296.0;
  for (const auto& v : {lo32, hi32}) {
    const double c = static_cast<double>(collisions(v));
    EXPECT_GT(c, expected - 5 * std::sqrt(expected) - 1) << words.size();
    EXPECT_LT(c, expected + 5 * std::sqrt(expected) + 1) << words.size();
  }
  // Avalanche over random words of every length 1..16.
  std::vector<double> flips(64, 0);
  size_t trials = 0;
  double worst_input_bit = 0.5;
  for (size_t len = 1; len <= 16; ++len) {
    for (size_t bit = 0; bit < 8 * len; ++bit) {
      double sum = 0;
      const int reps = 60;
      for (int r = 0; r < reps; ++r) {
        std::string x(len, '\0');
        for (char& c : x) c = static_cast<char>(rng());
        const uint64_t a = HashWord(x);
        x[bit / 8] = static_cast<char>(x[bit / 8] ^ (1 << (bit % 8)));
        const uint64_t d = a ^ HashWord(x);
        for (int o = 0; o < 64; ++o) flips[o] += (d >> o) & 1;
        sum += std::popcount(d);
        ++trials;
      }
      const double mean = sum / reps / 64;
      if (std::abs(mean - 0.5) > std::abs(worst_input_bit - 0.5)) worst_input_bit = mean;
    }
  }
  EXPECT_NEAR(worst_input_bit, 0.5, 0.06);  // mean flipped fraction for the worst input bit (60 trials x 64 bits)
  for (int o = 0; o < 64; ++o) EXPECT_NEAR(flips[o] / trials, 0.5, 0.02) << "output bit " << o;
}

TEST(TextNormalize, ShingleHashesWordMode) {
  ShingleOptions opt;
  opt.n = 3;
  opt.mode = NormalizationMode::kLmEval;
  std::vector<uint64_t> out;
  ShingleHashes("A b, C d!", opt, &out);
  uint64_t h[4] = {HashWord("a"), HashWord("b"), HashWord("c"), HashWord("d")};
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], HashNgram(h, 3));
  EXPECT_EQ(out[1], HashNgram(h + 1, 3));
  ShingleHashes("A b", opt, &out);  // shorter than n: one shingle of all words
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], HashNgram(h, 2));
  ShingleHashes(" ... ", opt, &out);
  EXPECT_TRUE(out.empty());
}

TEST(TextNormalize, ShingleHashesCharAndTokenMode) {
  ShingleOptions opt;
  opt.kind = ShingleKind::kChar;
  opt.n = 4;
  std::vector<uint64_t> out;
  ShingleHashes("Ab, CD", opt, &out);  // normalised "ab cd"
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], XXH3_64bits("ab c", 4));
  EXPECT_EQ(out[1], XXH3_64bits("b cd", 4));
  ShingleHashes("Ab", opt, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], XXH3_64bits("ab", 2));
  uint32_t toks[4] = {5, 6, 7, 8};
  TokenShingleHashes(toks, 4, 3, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1], XXH3_64bits(toks + 1, 12));
  TokenShingleHashes(toks, 2, 3, &out);
  ASSERT_EQ(out.size(), 1u);
  TokenShingleHashes(toks, 0, 3, &out);
  EXPECT_TRUE(out.empty());
}

TEST(TextNormalize, Avx2ClassifierEqualsScalar) {
  if (DetectSimdLevel() < SimdLevel::kAvx2) GTEST_SKIP() << "CPU (or DEDUPDB_SIMD) has no AVX2";
  std::mt19937 rng(21);
  std::vector<uint8_t> bytes(64 * 64);
  for (int round = 0; round < 50; ++round) {
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(round % 2 ? rng() : rng() % 0x80);
    std::vector<uint64_t> s1(64), x1(64), s2(64), x2(64);
    text_internal::ClassifyLmEvalScalar(bytes.data(), 64, s1.data(), x1.data());
    text_internal::ClassifyLmEvalAvx2(bytes.data(), 64, s2.data(), x2.data());
    ASSERT_EQ(s1, s2);
    ASSERT_EQ(x1, x2);
  }
  // Every byte value once, in every lane position.
  for (int shift = 0; shift < 64; ++shift) {
    for (int i = 0; i < 256; ++i) bytes[(i + shift) % 256] = static_cast<uint8_t>(i);
    std::vector<uint64_t> s1(4), x1(4), s2(4), x2(4);
    text_internal::ClassifyLmEvalScalar(bytes.data(), 4, s1.data(), x1.data());
    text_internal::ClassifyLmEvalAvx2(bytes.data(), 4, s2.data(), x2.data());
    ASSERT_EQ(s1, s2);
    ASSERT_EQ(x1, x2);
  }
}

TEST(TextNormalize, BitmaskTokenizerEqualsBytewise) {
  using Tok = std::tuple<size_t, size_t, std::string>;
  auto collect = [](void* ctx, size_t b, size_t e, const char* w, size_t n) {
    static_cast<std::vector<Tok>*>(ctx)->emplace_back(b, e, std::string(w, n));
  };
  std::vector<std::string> cases = EdgeCases();
  for (const std::string& r : RandomCases(test::Scaled(3000, 500), 99)) cases.push_back(r + r + r);  // > 64 bytes
  std::mt19937 rng(4);
  for (int i = 0; i < 300; ++i) {  // arbitrary bytes, invalid UTF-8 included
    std::string s(rng() % 300, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 3 ? ' ' + rng() % 95 : rng());
    cases.push_back(s);
  }
  // Block edges: texts of exactly 64/128 bytes ending inside a word, words
  // spanning several 64-byte blocks, a word ending on a block boundary.
  cases.push_back(std::string(64, 'a'));
  cases.push_back(std::string(63, 'a') + " ");
  cases.push_back(" " + std::string(127, 'b'));
  cases.push_back("x " + std::string(150, 'C') + " y." + std::string(40, ' ') + "Tail");
  for (size_t k = 60; k < 70; ++k) cases.push_back(std::string(k, 'w') + " Next word\xc2\xa0nbsp " + std::string(130 - k, 'z'));
  for (const std::string& c : cases) {
    std::vector<Tok> ref, fast, fast_avx2;
    text_internal::TokenizeLmEvalBytewise(c.data(), c.size(), collect, &ref);
    text_internal::TokenizeLmEvalBitmask(c.data(), c.size(), collect, &fast, false);
    text_internal::TokenizeLmEvalBitmask(c.data(), c.size(), collect, &fast_avx2, true);
    ASSERT_EQ(fast, ref) << c;
    ASSERT_EQ(fast_avx2, ref) << c;
  }
}

// The AVX-512 block normaliser writes exactly what the scalar one does:
// masks, block bases and the normalised bytes, on every byte value in every
// lane and on random texts of every tail length.
TEST(TextNormalize, Avx512BlockNormaliserEqualsScalar) {
  if (DetectSimdLevel() < SimdLevel::kAvx512 || !text_internal::LmEvalAvx512Supported())
    GTEST_SKIP() << "CPU (or DEDUPDB_SIMD) has no AVX-512 VBMI2";
  auto run = [](const std::string& t, bool avx512) {
    const size_t nb = (t.size() + 63) / 64;
    std::vector<uint8_t> out(t.size() + 64, 0xAA);
    std::vector<uint64_t> sp(nb + 1), keep(nb + 1), lead(nb + 1);
    std::vector<uint32_t> cbase(nb + 1);
    text_internal::LmEvalBlocks blk{out.data(), sp.data(), keep.data(), lead.data(), cbase.data()};
    const uint8_t* p = reinterpret_cast<const uint8_t*>(t.data());
    if (avx512) text_internal::NormalizeBlocksLmEvalAvx512(p, t.size(), &blk);
    else text_internal::NormalizeBlocksLmEvalScalar(p, t.size(), &blk);
    out.resize(cbase[nb]);
    return std::make_tuple(sp, keep, lead, cbase, out);
  };
  std::mt19937 rng(77);
  std::vector<std::string> cases;
  for (int shift = 0; shift < 64; ++shift) {
    std::string s(256 + shift, 'x');
    for (int i = 0; i < 256; ++i) s[(i + shift) % s.size()] = static_cast<char>(i);
    cases.push_back(s);
  }
  for (size_t len = 0; len < 200; ++len) {
    std::string s(len, '\0');
    for (char& c : s) c = static_cast<char>(len % 2 ? rng() : ' ' + rng() % 95);
    cases.push_back(s);
  }
  for (const std::string& c : cases) ASSERT_EQ(run(c, true), run(c, false)) << c.size();
}

// The block tokeniser (scalar and AVX-512 normaliser) against the bytewise
// oracle: random texts, every Unicode space straddling block boundaries,
// words longer than 64 bytes with case and punctuation, invalid UTF-8.
TEST(TextNormalize, BlockTokenizerEqualsBytewise) {
  using Tok = std::tuple<size_t, size_t, std::string>;
  auto collect = [](void* ctx, size_t b, size_t e, const char* w, size_t n) {
    static_cast<std::vector<Tok>*>(ctx)->emplace_back(b, e, std::string(w, n));
  };
  const bool have512 = DetectSimdLevel() >= SimdLevel::kAvx512 && text_internal::LmEvalAvx512Supported();
  std::vector<std::string> cases = EdgeCases();
  for (const std::string& r : RandomCases(test::Scaled(3000, 500), 98)) cases.push_back(r + r + r);
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {  // arbitrary bytes, invalid UTF-8 included
    std::string s(rng() % 300, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 3 ? ' ' + rng() % 95 : rng());
    cases.push_back(s);
  }
  const std::vector<std::string> uspaces = {"\xC2\x85", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x85",
                                            "\xE2\x80\x8A", "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F",
                                            "\xE3\x80\x80"};
  // Near misses: a lead byte with the wrong continuation, or cut short.
  const std::vector<std::string> near = {"\xC2\xA1", "\xE2\x80\x8B", "\xE2\x81\x9E", "\xE3\x80\x81", "\xE1\x9A\x81",
                                         "\xE2\x80", "\xC2", "\xE3"};
  for (size_t k = 58; k < 66; ++k) {
    for (const std::string& u : uspaces) cases.push_back(std::string(k, 'w') + u + "Next, WORD" + u + std::string(70, 'z'));
    for (const std::string& u : near) cases.push_back(std::string(k, 'W') + u + "x.y" + u);
    cases.push_back(std::string(k, 'a') + "\xE2\x80\x83");  // a space ending the text
  }
  cases.push_back(std::string(64, 'a'));
  cases.push_back(std::string(63, 'a') + " ");
  cases.push_back(" " + std::string(127, 'b'));
  cases.push_back("x " + std::string(150, 'C') + " y." + std::string(40, ' ') + "Tail");
  std::string long_word;  // > 64 bytes, upper case and punctuation spread over three blocks
  for (int i = 0; i < 170; ++i) long_word += "aB.-'x"[i % 6];
  cases.push_back(long_word + " " + long_word + "\n" + std::string(64, '!') + " " + long_word);
  for (const std::string& c : cases) {
    std::vector<Tok> ref, blocks, blocks512;
    text_internal::TokenizeLmEvalBytewise(c.data(), c.size(), collect, &ref);
    text_internal::TokenizeLmEvalBlocks(c.data(), c.size(), collect, &blocks, false);
    ASSERT_EQ(blocks, ref) << c;
    if (!have512) continue;
    text_internal::TokenizeLmEvalBlocks(c.data(), c.size(), collect, &blocks512, true);
    ASSERT_EQ(blocks512, ref) << c;
  }
}

// The same on real corpus text (every file of ../shared/data/corpus, a few
// hundred documents each).
TEST(TextNormalize, BlockTokenizerEqualsBytewiseOnCorpus) {
  const std::string dir = test::SharedDataDir() + "/corpus";
  const std::vector<std::string> files = {"enwiki_extract", "bbc_news", "gutenberg_sample", "imdb_reviews",
                                          "spam_assassin", "wikitext103_test_valid", "ag_news_test_with_copy"};
  if (!std::ifstream(dir + "/" + files[0] + ".jsonl.zst")) GTEST_SKIP() << "../shared/data missing";
  using Tok = std::tuple<size_t, size_t, std::string>;
  auto collect = [](void* ctx, size_t b, size_t e, const char* w, size_t n) {
    static_cast<std::vector<Tok>*>(ctx)->emplace_back(b, e, std::string(w, n));
  };
  size_t words = 0;
  for (const std::string& f : files) {
    for (const test::JsonlDoc& d : test::ReadJsonlZstOracle(dir + "/" + f + ".jsonl.zst", test::Scaled(300, 60))) {
      std::vector<Tok> ref, got;
      text_internal::TokenizeLmEvalBytewise(d.text.data(), d.text.size(), collect, &ref);
      text_internal::TokenizeLmEvalBlocks(d.text.data(), d.text.size(), collect, &got, true);
      ASSERT_EQ(got, ref) << f << " " << d.id;
      words += ref.size();
    }
  }
  EXPECT_GT(words, 10000u);
}

// kWords (MinHash) block tokeniser: the AVX-512 block kernel writes what the
// scalar one does, and the block tokeniser (either kernel) emits exactly the
// scalar Unicode tokeniser's words: random texts (Greek final sigma, Turkish
// dotted I, Cyrillic, invalid UTF-8), runs crossing block edges, long words.
TEST(TextNormalize, WordsBlockTokenizerEqualsScalar) {
  const bool have512 = DetectSimdLevel() >= SimdLevel::kAvx512 && text_internal::LmEvalAvx512Supported();
  using Tok = std::tuple<size_t, size_t, std::string>;
  auto collect = [](void* ctx, size_t b, size_t e, const char* w, size_t n) {
    static_cast<std::vector<Tok>*>(ctx)->emplace_back(b, e, std::string(w, n));
  };
  std::vector<std::string> cases = EdgeCases();
  for (const std::string& r : RandomCases(test::Scaled(3000, 500), 97)) cases.push_back(r + r + r);
  std::mt19937 rng(6);
  for (int i = 0; i < 300; ++i) {
    std::string s(rng() % 300, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 3 ? ' ' + rng() % 95 : rng());
    cases.push_back(s);
  }
  const std::vector<std::string> pieces = {"\xCE\xA3", "\xCE\x91\xCE\xA3", "\xC4\xB0", "\xD0\x96", "\xE2\x80\x94", "\xC3\xA9", "'", ".", "_", "-"};
  for (size_t k = 56; k < 68; ++k) {
    for (const std::string& u : pieces) cases.push_back(std::string(k, 'W') + u + "Ab" + u + " x" + std::string(70, 'Q') + u);
  }
  std::string long_word;
  for (int i = 0; i < 170; ++i) long_word += "aB_9Z"[i % 5];
  cases.push_back(long_word + " " + long_word + "\xC3\xA9" + long_word);
  for (const std::string& c : cases) {
    std::vector<Tok> ref, blocks, blocks512;
    text_internal::TokenizeWordsScalar(c.data(), c.size(), collect, &ref);
    text_internal::TokenizeWordsBlocks(c.data(), c.size(), collect, &blocks, false);
    ASSERT_EQ(blocks, ref) << c;
    if (!have512) continue;
    text_internal::TokenizeWordsBlocks(c.data(), c.size(), collect, &blocks512, true);
    ASSERT_EQ(blocks512, ref) << c;
    // The kernels themselves.
    const size_t nb = (c.size() + 63) / 64;
    std::vector<uint8_t> t1(c.size() + 64), t2(c.size() + 64);
    std::vector<uint64_t> s1(nb + 1), h1(nb + 1), s2(nb + 1), h2(nb + 1);
    text_internal::WordsBlocks b1{t1.data(), s1.data(), h1.data()}, b2{t2.data(), s2.data(), h2.data()};
    const uint8_t* p = reinterpret_cast<const uint8_t*>(c.data());
    text_internal::NormalizeBlocksWordsScalar(p, c.size(), &b1);
    text_internal::NormalizeBlocksWordsAvx512(p, c.size(), &b2);
    ASSERT_EQ(s1, s2);
    ASSERT_EQ(h1, h2);
    ASSERT_TRUE(std::equal(t1.begin(), t1.begin() + c.size(), t2.begin()));
  }
  // Real corpus text.
  const std::string dir = test::SharedDataDir() + "/corpus";
  if (!std::ifstream(dir + "/enwiki_extract.jsonl.zst")) GTEST_SKIP() << "../shared/data missing";
  for (const std::string f : {"enwiki_extract", "bbc_news", "gutenberg_sample", "spam_assassin"}) {
    for (const test::JsonlDoc& d : test::ReadJsonlZstOracle(dir + "/" + f + ".jsonl.zst", test::Scaled(200, 40))) {
      std::vector<Tok> ref, got;
      text_internal::TokenizeWordsScalar(d.text.data(), d.text.size(), collect, &ref);
      text_internal::TokenizeWordsBlocks(d.text.data(), d.text.size(), collect, &got, true);
      ASSERT_EQ(got, ref) << f << " " << d.id;
    }
  }
}

TEST(TextNormalize, ModeNames) {
  NormalizationMode m;
  ASSERT_TRUE(ParseNormalizationMode(NormalizationModeName(NormalizationMode::kLmEval), &m));
  EXPECT_EQ(m, NormalizationMode::kLmEval);
  ASSERT_TRUE(ParseNormalizationMode("words", &m));
  EXPECT_EQ(m, NormalizationMode::kWords);
  EXPECT_FALSE(ParseNormalizationMode("bogus", &m));
}

}  // namespace
}  // namespace dedupdb
