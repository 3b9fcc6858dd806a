// PositionSpiller: sorted, de-duplicated intervals of positions under a tiny
// memory budget (many run files), against std::set; a damaged run is
// reported, not read past.
#include "query/position_spiller.h"

#include <gtest/gtest.h>

#include <dirent.h>

#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "tests/test_util.h"

namespace dedupdb {
namespace {

using Intervals = std::vector<std::pair<uint64_t, uint64_t>>;

Intervals FromSet(const std::set<uint64_t>& s) {
  Intervals out;
  for (uint64_t p : s) {
    if (!out.empty() && out.back().second == p) {
      ++out.back().second;
    } else {
      out.emplace_back(p, p + 1);
    }
  }
  return out;
}

std::vector<std::string> RunFiles(const std::string& dir) {
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.substr(n.size() - 4) == ".run") files.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  return files;
}

TEST(PositionSpiller, MergedIntervalsEqualSortedUniquePositions) {
  test::TempDir dir;
  std::mt19937_64 rng(3);
  std::set<uint64_t> want;
  Intervals got;
  {
    // 3 spillers of 1024 positions each (the minimum): ~30 runs.
    std::vector<std::unique_ptr<PositionSpiller>> sp;
    for (int t = 0; t < 3; ++t)
      sp.push_back(std::make_unique<PositionSpiller>(Env::Default(), dir.path(), "t" + std::to_string(t) + "-", 1));
    for (int i = 0; i < 30000; ++i) {
      // Runs of consecutive positions (repeated passages) and scattered ones,
      // duplicates across spillers included.
      uint64_t p = rng() % 4 == 0 ? (uint64_t{1} << 36) + rng() % 5000 : rng() % 20000;
      uint64_t n = 1 + rng() % 8;
      for (uint64_t j = 0; j < n; ++j) {
        want.insert(p + j);
        ASSERT_TRUE(sp[rng() % 3]->Add(p + j).ok());
      }
    }
    uint64_t runs = 0;
    for (auto& s : sp) runs += s->runs();
    EXPECT_GT(runs, 10u);
    EXPECT_EQ(RunFiles(dir.path()).size(), runs);
    std::vector<PositionSpiller*> all;
    for (auto& s : sp) all.push_back(s.get());
    Status st = PositionSpiller::MergeIntervals(all, [&](uint64_t s, uint64_t e) {
      got.emplace_back(s, e);
      return Status::OK();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  EXPECT_EQ(got, FromSet(want));
  EXPECT_TRUE(RunFiles(dir.path()).empty());  // removed with the spillers
}

TEST(PositionSpiller, NoDirectoryIsAClearErrorWhenTheBufferFills) {
  PositionSpiller sp(Env::Default(), "", "x-", 1);
  Status st;
  for (uint64_t p = 0; st.ok() && p < 5000; ++p) st = sp.Add(p * 3);
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.ToString().find("no directory for spill files"), std::string::npos) << st.ToString();
}

TEST(PositionSpiller, DamagedRunIsReported) {
  test::TempDir dir;
  PositionSpiller sp(Env::Default(), dir.path(), "d-", 1);
  for (uint64_t p = 0; p < 3000; ++p) ASSERT_TRUE(sp.Add(p * 7).ok());
  std::vector<std::string> files = RunFiles(dir.path());
  ASSERT_FALSE(files.empty());
  {
    // Flip one byte of the body: the envelope's checksum must catch it.
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    const std::streamoff size = f.tellg();
    char c = 0;
    f.seekg(size - 3);
    f.get(c);
    f.seekp(size - 3);
    f.put(static_cast<char>(c ^ 0x5a));
  }
  Status st = PositionSpiller::MergeIntervals({&sp}, [](uint64_t, uint64_t) { return Status::OK(); });
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find(".run"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace dedupdb
