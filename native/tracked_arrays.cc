#include "tracked_arrays.h"

#include <algorithm>

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
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, where + " is not a Float32Array");
  // Also moves a small on-heap typed array's data off the heap, so its address stays put.
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value raw_buffer;
  size_t offset = 0;
  NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, value, &type, length, &data, &raw_buffer, &offset),
                       nullptr);
  if (*length == 0) return static_cast<float*>(data);  // no kernel ever touches it: nothing to watch
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
      buffers_.push_back({Napi::Persistent(Napi::Object(env, raw_buffer)), views_.size()});
      by_data_.emplace(base, buffers_.size() - 1);
    }
  }
  const char* begin = static_cast<const char*>(data);
  views_.push_back({begin, begin + *length * sizeof(float), where});
  return static_cast<float*>(data);
}

void TrackedArrays::CheckOverlap(Napi::Env env) const {
  std::vector<size_t> order;
  for (size_t v = 0; v < views_.size(); ++v)
    if (views_[v].end != views_[v].begin) order.push_back(v);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return views_[a].begin < views_[b].begin; });
  size_t reach = 0;  // the view reaching furthest so far
  for (size_t i = 1; i < order.size(); ++i) {
    if (views_[order[i - 1]].end > views_[order[reach]].end) reach = i - 1;
    if (views_[order[i]].begin < views_[order[reach]].end)
      throw Napi::Error::New(env, views_[order[reach]].where + " and " + views_[order[i]].where +
                                      " share memory: every array of an optimizer needs its own");
  }
}

void TrackedArrays::Check(Napi::Env env) {
  constexpr size_t kBatch = 256;  // handles per scope
  for (size_t start = 0; start < buffers_.size(); start += kBatch) {
    Napi::HandleScope scope(env);
    for (size_t b = start; b < std::min(buffers_.size(), start + kBatch); ++b) {
      const Buffer& buffer = buffers_[b];
      bool detached = false;
      NAPI_THROW_IF_FAILED_VOID(env, napi_is_detached_arraybuffer(env, buffer.buffer.Value(), &detached));
      if (detached)
        throw Napi::Error::New(env, views_[buffer.first_view].where +
                                        " was detached since the optimizer was created");
    }
  }
}

}  // namespace adam
