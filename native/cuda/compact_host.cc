// The CUDA backend's compact step on the CPU: compact_block.h's functions, the ones the device
// kernel (compact.cu) runs, block after block on one thread. Built in every build (with the CPU
// flags of ADAM_EXACT_FLAGS), so a test without a GPU executes the device code's arithmetic.
#include <math.h>
#include <string.h>

#include "gpu.h"
#include "../kernels/sr_hash.h"

namespace adam {
namespace gpu_host {
#include "../kernels/vec_scalar.h"
#include "../kernels/rules.h"
#include "../kernels/convert.h"
#include "../kernels/stochastic.h"
#include "compact_block.h"

template <class Rule>
void step_tensors(const std::vector<gpu::CompactTensor>& tensors, const float* scalars, const uint32_t* flags,
                  uint32_t seed, uint32_t step) {
  const Quant8Map &sign = quant8_map(true), &unsign = quant8_map(false);
  const Q8Tables maps = {{sign.values, unsign.values}, {sign.above, unsign.above}, {sign.zero, unsign.zero}};
  for (const gpu::CompactTensor& t : tensors) {
    const float* s = scalars + size_t{t.group} * kMaxScalars;
    const uint32_t key = t.sr ? sr_key(seed, step, t.index) : 0;
    for (unsigned long long begin = 0; begin < t.n; begin += kCompactBlock)
      compact_block_serial<Rule>(s, flags[t.group], t, maps, begin, key);
  }
}

}  // namespace gpu_host

namespace gpu {

void compact_step_host(RuleId rule, const std::vector<CompactTensor>& tensors, const float* scalars,
                       const uint32_t* flags, uint32_t seed, uint32_t step) {
  using Fn = void (*)(const std::vector<CompactTensor>&, const float*, const uint32_t*, uint32_t, uint32_t);
#define ADAM_HOST_STEP(name, Rule) &gpu_host::step_tensors<gpu_host::Rule>,
  static const Fn kSteps[kRuleCount] = {ADAM_RULE_LIST(ADAM_HOST_STEP)};
#undef ADAM_HOST_STEP
  if (rule < kRuleCount) kSteps[rule](tensors, scalars, flags, seed, step);
}

}  // namespace gpu
}  // namespace adam
