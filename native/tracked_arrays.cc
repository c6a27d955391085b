#include "tracked_arrays.h"

#include <algorithm>
#include <utility>

namespace adam {
namespace {

// ArrayBuffer.prototype's `resizable` and SharedArrayBuffer.prototype's `growable` getters, as
// they were when the addon loaded. Absent in a runtime without resizable buffers.
struct BufferGetters {
  Napi::FunctionReference resizable, growable;
};

Napi::FunctionReference IntrinsicGetter(Napi::Env env, const char* constructor, const char* property) {
  Napi::Object global = env.Global();
  Napi::Value ctor = global.Get(constructor);
  if (!ctor.IsFunction()) return {};
  Napi::Value proto = ctor.As<Napi::Object>().Get("prototype");
  Napi::Function describe = global.Get("Object").As<Napi::Object>().Get("getOwnPropertyDescriptor").As<Napi::Function>();
  Napi::Value descriptor = describe.Call({proto, Napi::String::New(env, property)});
  if (!descriptor.IsObject()) return {};
  Napi::Value get = descriptor.As<Napi::Object>().Get("get");
  return get.IsFunction() ? Napi::Persistent(get.As<Napi::Function>()) : Napi::FunctionReference();
}

// Whether the buffer can change size: the intrinsic getter called on the buffer itself.
bool CanChangeSize(Napi::Env env, const Napi::FunctionReference& getter, napi_value buffer) {
  if (getter.IsEmpty()) return false;
  return getter.Value().Call(buffer, {}).ToBoolean().Value();
}

}  // namespace

void InitTrackedArrays(Napi::Env env) {
  auto* getters = new BufferGetters{IntrinsicGetter(env, "ArrayBuffer", "resizable"),
                                    IntrinsicGetter(env, "SharedArrayBuffer", "growable")};
  env.SetInstanceData(getters);  // deleted with the environment
}

float* TrackedArrays::Add(Napi::Env env, Napi::Value value, const std::string& where, size_t* length) {
  return static_cast<float*>(AddTyped(env, value, napi_float32_array, sizeof(float), "Float32Array", where, length));
}

void* TrackedArrays::AddTyped(Napi::Env env, Napi::Value value, napi_typedarray_type want, size_t bytes,
                              const char* type_name, const std::string& where, size_t* length) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != want)
    throw Napi::TypeError::New(env, where + " is not a " + type_name);
  // Also moves a small on-heap typed array's data off the heap, so its address stays put.
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value raw_buffer;
  size_t offset = 0;
  NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, value, &type, length, &data, &raw_buffer, &offset),
                       nullptr);
  if (*length == 0) return data;  // no kernel ever touches it: nothing to watch
  if (data == nullptr) throw Napi::Error::New(env, where + " is detached");

  const BufferGetters* getters = env.GetInstanceData<BufferGetters>();
  bool is_array_buffer = false;
  NAPI_THROW_IF_FAILED(env, napi_is_arraybuffer(env, raw_buffer, &is_array_buffer), nullptr);
  if (!is_array_buffer) {  // a SharedArrayBuffer
    if (CanChangeSize(env, getters->growable, raw_buffer))
      throw Napi::TypeError::New(env, where + " is on a growable SharedArrayBuffer; use a fixed-length one");
    shared_.push_back(Napi::Persistent(Napi::Object(env, raw_buffer)));
  } else {
    if (CanChangeSize(env, getters->resizable, raw_buffer))
      throw Napi::TypeError::New(env, where + " is on a resizable ArrayBuffer; use a fixed-length one");
    void* base = nullptr;  // finds an already registered buffer quickly
    NAPI_THROW_IF_FAILED(env, napi_get_arraybuffer_info(env, raw_buffer, &base, nullptr), nullptr);
    bool known = false;
    auto same = by_data_.equal_range(base);
    for (auto it = same.first; it != same.second && !known; ++it)
      NAPI_THROW_IF_FAILED(env, napi_strict_equals(env, buffers_[it->second].buffer.Value(), raw_buffer, &known),
                           nullptr);
    if (!known) {
      buffers_.push_back({Napi::Weak(Napi::Object(env, raw_buffer)), views_.size()});
      by_data_.emplace(base, buffers_.size() - 1);
    }
  }
  const char* begin = static_cast<const char*>(data);
  views_.push_back({begin, begin + *length * bytes, where});
  return data;
}

namespace {

constexpr size_t kNone = static_cast<size_t>(-1);

// The first two views (indices into begins/ends) whose address ranges overlap, by a sweep over the
// views sorted by start; {kNone, kNone} when none do. Empty views never overlap.
std::pair<size_t, size_t> FirstOverlap(const std::vector<const char*>& begins, const std::vector<const char*>& ends) {
  std::vector<size_t> order;
  for (size_t v = 0; v < begins.size(); ++v)
    if (ends[v] != begins[v]) order.push_back(v);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return begins[a] < begins[b]; });
  size_t reach = 0;  // position in `order` of the view reaching furthest so far
  for (size_t i = 1; i < order.size(); ++i) {
    if (ends[order[i - 1]] > ends[order[reach]]) reach = i - 1;
    if (begins[order[i]] < ends[order[reach]]) return {order[reach], order[i]};
  }
  return {kNone, kNone};
}

}  // namespace

void TrackedArrays::CheckOverlap(Napi::Env env) const {
  std::vector<const char*> begins, ends;
  for (const View& v : views_) begins.push_back(v.begin), ends.push_back(v.end);
  auto pair = FirstOverlap(begins, ends);
  if (pair.first != kNone)
    throw Napi::Error::New(env, views_[pair.first].where + " and " + views_[pair.second].where +
                                    " share memory: every array of an optimizer needs its own");
}

Napi::Value OverlappingPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsArray())
    throw Napi::TypeError::New(env, "overlappingPair(arrays): expected one argument, an Array of Float32Arrays");
  Napi::Array arrays = info[0].As<Napi::Array>();
  const uint32_t n = arrays.Length();
  std::vector<const char*> begins(n), ends(n);
  for (uint32_t i = 0; i < n; ++i) {
    Napi::Value v = arrays[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(env, "overlappingPair: arrays[" + std::to_string(i) + "] is not a Float32Array");
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr), Napi::Value());
    begins[i] = static_cast<const char*>(data);
    ends[i] = data == nullptr ? begins[i] : begins[i] + length * sizeof(float);
  }
  auto pair = FirstOverlap(begins, ends);
  if (pair.first == kNone) return env.Null();
  Napi::Array out = Napi::Array::New(env, 2);
  out[0u] = static_cast<double>(std::min(pair.first, pair.second));
  out[1u] = static_cast<double>(std::max(pair.first, pair.second));
  return out;
}

void TrackedArrays::Check(Napi::Env env) {
  // A buffer's look-up stalls on a cache miss on the reference N-API keeps for it, one buffer after
  // the other: the references are prefetched a few buffers ahead (a prefetch never faults, and the
  // address is only a hint: nothing is read through it here), and every handle of a batch is taken
  // before the buffers are asked, so their misses overlap too.
  constexpr size_t kBatch = 256;  // handles per scope
  constexpr size_t kAhead = 8;
  auto prefetch = [this](size_t b) {
    if (b >= buffers_.size()) return;
    const char* ref = reinterpret_cast<const char*>(static_cast<napi_ref>(buffers_[b].buffer));
    __builtin_prefetch(ref);
    __builtin_prefetch(ref + 64);
  };
  for (size_t b = 0; b < kAhead; ++b) prefetch(b);
  napi_value values[kBatch];
  for (size_t start = 0; start < buffers_.size(); start += kBatch) {
    Napi::HandleScope scope(env);
    const size_t end = std::min(buffers_.size(), start + kBatch);
    for (size_t b = start; b < end; ++b) {
      prefetch(b + kAhead);
      values[b - start] = buffers_[b].buffer.Value();
    }
    for (size_t b = start; b < end; ++b) {
      napi_value value = values[b - start];
      if (value == nullptr)
        throw Napi::Error::New(env, views_[buffers_[b].first_view].where + " was collected since the optimizer was created");
      bool detached = false;
      NAPI_THROW_IF_FAILED_VOID(env, napi_is_detached_arraybuffer(env, value, &detached));
      if (detached)
        throw Napi::Error::New(env, views_[buffers_[b].first_view].where +
                                        " was detached since the optimizer was created");
    }
  }
}

void TrackedArrays::Hold(bool hold) {
  // Statuses ignored: called when a step settles, also during teardown, where nothing may throw.
  for (Buffer& buffer : buffers_) {
    napi_env env = buffer.buffer.Env();
    napi_ref ref = buffer.buffer;
    hold ? napi_reference_ref(env, ref, nullptr) : napi_reference_unref(env, ref, nullptr);
  }
}

}  // namespace adam
