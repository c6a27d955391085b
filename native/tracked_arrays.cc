#include "tracked_arrays.h"

#include <algorithm>

namespace adam {

float* TrackedArrays::Add(Napi::Env env, Napi::Value value, size_t index, const std::string& where,
                          size_t* length) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, where + " is not a Float32Array");
  // Also moves a small on-heap typed array's data off the heap, so its address stays put.
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value raw_buffer;
  size_t offset = 0;
  NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, value, &type, length, &data, &raw_buffer, &offset),
                       nullptr);
  size_t v = views_.size();
  views_.push_back({index, *length, where, Napi::Persistent(value.As<Napi::Object>())});
  if (*length == 0) return static_cast<float*>(data);  // no chunk ever touches it: nothing to watch

  bool is_array_buffer = false;
  NAPI_THROW_IF_FAILED(env, napi_is_arraybuffer(env, raw_buffer, &is_array_buffer), nullptr);
  if (!is_array_buffer) {
    loose_.push_back(v);
    return static_cast<float*>(data);
  }
  void* base = nullptr;
  size_t bytes = 0;
  NAPI_THROW_IF_FAILED(env, napi_get_arraybuffer_info(env, raw_buffer, &base, &bytes), nullptr);
  auto same = by_data_.equal_range(base);
  for (auto it = same.first; it != same.second; ++it) {
    bool equal = false;
    NAPI_THROW_IF_FAILED(env, napi_strict_equals(env, buffers_[it->second].buffer.Value(), raw_buffer, &equal),
                         nullptr);
    if (equal) {
      buffers_[it->second].views.push_back(v);
      return static_cast<float*>(data);
    }
  }
  buffers_.push_back({Napi::Persistent(Napi::Object(env, raw_buffer)), base, bytes, {v}});
  by_data_.emplace(base, buffers_.size() - 1);
  return static_cast<float*>(data);
}

void TrackedArrays::Recheck(Napi::Env env, const View& view, float** ptrs) const {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer;
  size_t offset = 0;
  NAPI_THROW_IF_FAILED_VOID(
      env, napi_get_typedarray_info(env, view.array.Value(), &type, &length, &data, &buffer, &offset));
  if (length != view.length || (length > 0 && data == nullptr))
    throw Napi::Error::New(env, view.where + " was detached or resized since the optimizer was created");
  ptrs[view.index] = static_cast<float*>(data);
}

void TrackedArrays::Check(Napi::Env env, float** ptrs) {
  constexpr size_t kBatch = 256;  // handles per scope
  for (size_t start = 0; start < buffers_.size(); start += kBatch) {
    Napi::HandleScope scope(env);
    for (size_t b = start; b < std::min(buffers_.size(), start + kBatch); ++b) {
      Buffer& buffer = buffers_[b];
      void* data = nullptr;
      size_t bytes = 0;
      NAPI_THROW_IF_FAILED_VOID(env, napi_get_arraybuffer_info(env, buffer.buffer.Value(), &data, &bytes));
      if (data == buffer.data && bytes == buffer.bytes) continue;  // every view on it is as registered
      for (size_t v : buffer.views) Recheck(env, views_[v], ptrs);
      buffer.data = data;
      buffer.bytes = bytes;
    }
  }
  Napi::HandleScope scope(env);
  for (size_t v : loose_) Recheck(env, views_[v], ptrs);
}

}  // namespace adam
