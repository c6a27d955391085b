// The CUDA backend in a build without CUDA (ADAM_NATIVE_CUDA=OFF): the same surface, where every
// call says why it cannot run, so the N-API layer and lib/ need no second code path.
#include "gpu.h"

namespace adam {
namespace gpu {

static const char kReason[] =
    "this addon was built without CUDA (for the CUDA backend, with nvcc installed: `ADAM_NATIVE_CUDA=1 npm rebuild adam-native`)";

Info query() {
  Info info;
  info.error = kReason;
  return info;
}

std::string alloc(size_t, float** out) {
  *out = nullptr;
  return kReason;
}
std::string release(float*) { return kReason; }
std::string upload(float*, const float*, size_t) { return kReason; }
std::string download(float*, const float*, size_t) { return kReason; }
std::string copy(float*, const float*, size_t) { return kReason; }
std::string zero(float*, size_t) { return kReason; }
std::string time_copy(float*, const float*, size_t, int, double*) { return kReason; }
std::string plan_create(RuleId, uint32_t, const std::vector<PlanTensor>&, const std::vector<HostPair>&,
                        DevicePlan** out) {
  *out = nullptr;
  return kReason;
}
std::string plan_step(DevicePlan*, const float*, const uint32_t*, const std::vector<HostPair>&) { return kReason; }
std::string plan_time(DevicePlan*, const float*, const uint32_t*, int, double*) { return kReason; }
void plan_destroy(DevicePlan*) {}
std::string compact_plan_create(RuleId, uint32_t, const std::vector<CompactTensor>&, const std::vector<uint32_t>&, uint32_t,
                                CompactDevicePlan** out) {
  *out = nullptr;
  return kReason;
}
std::string compact_plan_step(CompactDevicePlan*, const float*, const uint32_t*, uint32_t) { return kReason; }
void compact_plan_destroy(CompactDevicePlan*) {}

}  // namespace gpu
}  // namespace adam
