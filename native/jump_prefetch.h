// The plans' software prefetch where a job moves from one tensor's chunk to the next. The hardware
// prefetcher follows each array's stream from chunk to chunk; where the next chunk's array does
// not continue this chunk's (separately allocated tensors), its first lines are fetched while this
// chunk runs. Contiguous streams (one tensor, views of one buffer, the state arenas) get no software
// prefetch: there it only competed with the hardware's. A prefetch never faults.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace adam {

constexpr size_t kFloatsPerLine = 16;   // 64-byte cache lines
constexpr size_t kPrefetchHead = 1024;  // elements of a jumped-to array fetched ahead: 4 KiB, a page
constexpr uintptr_t kStreamGap = 256;   // bytes skipped that still count as one stream

// `current[k]`: slot k of the chunk now running (n elements); `next[k]`: slot k where the next
// chunk starts, `next_n` elements long. Either may be nullptr (an absent slot).
inline void PrefetchJumps(const float* const* next, size_t next_n, const float* const* current, size_t n, uint32_t slots) {
  const size_t head = std::min(next_n, kPrefetchHead);
  for (uint32_t k = 0; k < slots; ++k) {
    const float* start = next[k];
    if (!start) continue;
    if (current[k]) {  // continues within a few lines (the arenas' 64-byte padding): the stream goes on
      const uintptr_t end = reinterpret_cast<uintptr_t>(current[k] + n), at = reinterpret_cast<uintptr_t>(start);
      if (at >= end && at - end <= kStreamGap) continue;
    }
    for (size_t e = 0; e < head; e += kFloatsPerLine) __builtin_prefetch(start + e, 0, 3);
  }
}

}  // namespace adam
