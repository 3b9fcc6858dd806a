// ProgressMeter: a progress line on stderr with rate and ETA for long
// commands. Redraws in place on a terminal (every 0.2 s), prints a plain line
// every 10 s otherwise, and nothing when disabled.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace dedupdb {

class ProgressMeter {
 public:
  enum class Unit { kBytes, kItems };
  ProgressMeter(std::string label, uint64_t total, Unit unit, bool enabled);
  ~ProgressMeter();
  // done = units completed so far (absolute, not a delta). Cheap to call often.
  void Update(uint64_t done, uint64_t secondary = 0, const char* secondary_label = nullptr);
  void SetTotal(uint64_t total) { total_ = total; }
  void Finish();

 private:
  void Draw(bool final);
  std::string label_;
  uint64_t total_;
  Unit unit_;
  bool enabled_;
  bool tty_;
  bool finished_ = false;
  uint64_t done_ = 0, secondary_ = 0;
  const char* secondary_label_ = nullptr;
  std::chrono::steady_clock::time_point start_, last_draw_;
  uint32_t calls_ = 0;
};

}  // namespace dedupdb
