#include "storage/progress.h"

#include <unistd.h>

#include <cstdio>

namespace dedupdb {

namespace {
std::string Human(double v, ProgressMeter::Unit unit) {
  char buf[32];
  if (unit == ProgressMeter::Unit::kBytes) {
    const char* u[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    int i = 0;
    while (v >= 1000 && i < 5) { v /= 1000; ++i; }
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, u[i]);
  } else {
    const char* u[] = {"", "k", "M", "G", "T"};
    int i = 0;
    while (v >= 1000 && i < 4) { v /= 1000; ++i; }
    std::snprintf(buf, sizeof(buf), i ? "%.1f%s" : "%.0f%s", v, u[i]);
  }
  return buf;
}

std::string Duration(double s) {
  char buf[32];
  if (s < 0 || s > 1e7) return "?";
  int t = static_cast<int>(s + 0.5);
  if (t >= 3600) std::snprintf(buf, sizeof(buf), "%dh%02dm", t / 3600, t / 60 % 60);
  else if (t >= 60) std::snprintf(buf, sizeof(buf), "%dm%02ds", t / 60, t % 60);
  else std::snprintf(buf, sizeof(buf), "%ds", t);
  return buf;
}
}  // namespace

ProgressMeter::ProgressMeter(std::string label, uint64_t total, Unit unit, bool enabled)
    : label_(std::move(label)), total_(total), unit_(unit), enabled_(enabled), tty_(::isatty(2) == 1) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

ProgressMeter::~ProgressMeter() { Finish(); }

void ProgressMeter::Update(uint64_t done, uint64_t secondary, const char* secondary_label) {
  done_ = done;
  secondary_ = secondary;
  secondary_label_ = secondary_label;
  if (!enabled_ || (++calls_ & 63) != 0) return;  // check the clock every 64 calls
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since < (tty_ ? 0.2 : 10.0)) return;
  last_draw_ = now;
  Draw(false);
}

void ProgressMeter::Draw(bool final) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? done_ / elapsed : 0;
  std::string line = label_ + ": " + Human(static_cast<double>(done_), unit_);
  if (total_ > 0) {
    char pct[32];
    std::snprintf(pct, sizeof(pct), " / %s (%.1f%%)", Human(static_cast<double>(total_), unit_).c_str(),
                  100.0 * static_cast<double>(done_) / static_cast<double>(total_));
    line += pct;
  }
  line += "  " + Human(rate, unit_) + "/s";
  if (secondary_label_ != nullptr) line += "  " + Human(static_cast<double>(secondary_), Unit::kItems) + " " + secondary_label_;
  if (final) {
    line += "  done in " + Duration(elapsed);
  } else if (total_ > 0 && rate > 0 && done_ <= total_) {
    line += "  ETA " + Duration(static_cast<double>(total_ - done_) / rate);
  }
  if (tty_) std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
  else std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

void ProgressMeter::Finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_) Draw(true);
}

}  // namespace dedupdb
