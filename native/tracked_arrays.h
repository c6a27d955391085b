// The Float32Arrays of a plan, registered once and re-validated before every step.
//
// A view's address and length can only change through its ArrayBuffer (detached: length 0 and no
// data; a resizable buffer resized), and a view's byte offset never changes. So Check() looks at
// each distinct ArrayBuffer once (its data pointer and byte length), not at each array: with the
// optimizer's state in a few shared arenas, 10,000 tensors cost about as many look-ups as the
// user has separate param and grad buffers. Only a buffer that changed has its views re-read one
// by one, and only then can Check() throw. Views on a SharedArrayBuffer (which N-API cannot read
// as an ArrayBuffer) are re-read one by one every time.
#pragma once
#include <napi.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace adam {

class TrackedArrays {
 public:
  // Registers `value` as array `index` (the caller's numbering) and returns its data and length.
  // Throws TypeError, naming it `where`, when it is not a Float32Array.
  float* Add(Napi::Env env, Napi::Value value, size_t index, const std::string& where, size_t* length);

  // Re-reads what changed into ptrs[index] for every registered array; throws Error naming the
  // array when one was detached or now has another length than at registration.
  void Check(Napi::Env env, float** ptrs);

 private:
  struct View {
    size_t index;       // the caller's numbering
    size_t length;      // elements, fixed at registration
    std::string where;  // for messages
    Napi::ObjectReference array;
  };
  struct Buffer {
    Napi::ObjectReference buffer;
    void* data;
    size_t bytes;
    std::vector<size_t> views;  // into views_
  };

  void Recheck(Napi::Env env, const View& view, float** ptrs) const;

  std::vector<View> views_;
  std::vector<Buffer> buffers_;
  std::vector<size_t> loose_;  // views re-read every time (SharedArrayBuffer-backed)
  std::unordered_multimap<void*, size_t> by_data_;  // buffer data pointer -> buffers_ index
};

}  // namespace adam
