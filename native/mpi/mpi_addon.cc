// The optional MPI addon (adam_native_mpi.node, built only where CMake finds MPI): the few
// collectives lib/distributed needs, on MPI_COMM_WORLD. The gradient reduction never uses MPI's
// arithmetic: slices travel with MPI_Alltoallv and are added here in rank order 0..N-1, so the bits
// do not depend on the MPI library's choice of algorithm. MPI is called from the JavaScript thread
// or from one libuv worker at a time (never two at once: the busy flag), hence
// MPI_THREAD_SERIALIZED.
#include <mpi.h>
#include <napi.h>
#include <dlfcn.h>

#include <atomic>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::atomic<bool> g_busy{false};
int g_rank = 0, g_size = 1, g_provided = MPI_THREAD_SINGLE;
bool g_we_initialized = false;

struct Stats {
  double mpi_seconds = 0, sum_seconds = 0, bytes_sent = 0;
  double calls = 0;
} g_stats;

enum class State { kUninitialized, kActive, kFinalized };

State CurrentState() {
  int finalized = 0, initialized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return State::kFinalized;
  MPI_Initialized(&initialized);
  return initialized ? State::kActive : State::kUninitialized;
}

std::string MpiError(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return std::string(text, len);
}

void Check(Napi::Env env, int code, const char* what) {
  if (code != MPI_SUCCESS) throw Napi::Error::New(env, std::string("MPI: ") + what + " failed: " + MpiError(code));
}

// Every call but init: MPI is up, not finalised, and no asynchronous collective is in flight.
void RequireReady(Napi::Env env, const char* who) {
  const State s = CurrentState();
  if (s == State::kUninitialized) throw Napi::Error::New(env, std::string(who) + ": MPI is not initialised (call distributed.mpi() first)");
  if (s == State::kFinalized) throw Napi::Error::New(env, std::string(who) + ": the communicator was finalised");
  if (g_busy.load()) throw Napi::Error::New(env, std::string(who) + ": an asynchronous collective is in flight on this communicator; await it first");
}

// A Float32Array's data and length; TypeError naming `what` otherwise.
float* Floats(Napi::Env env, Napi::Value v, const std::string& what, size_t* length) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, what + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  *length = a.ElementLength();
  return a.Data();
}

// Per-rank element counts: one non-negative int per rank.
std::vector<int> Counts(Napi::Env env, Napi::Value v, const std::string& what) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, what + " must be an Array of counts");
  Napi::Array list = v.As<Napi::Array>();
  if (list.Length() != static_cast<uint32_t>(g_size))
    throw Napi::RangeError::New(env, what + " must have one count per rank (" + std::to_string(g_size) + ")");
  std::vector<int> counts(g_size);
  for (int r = 0; r < g_size; ++r) {
    Napi::Value c = list[static_cast<uint32_t>(r)];
    if (!c.IsNumber()) throw Napi::TypeError::New(env, what + " must hold numbers");
    const double x = c.As<Napi::Number>().DoubleValue();
    if (!(x >= 0 && x <= INT_MAX) || x != static_cast<double>(static_cast<long long>(x)))
      throw Napi::RangeError::New(env, what + " must hold integers in [0, 2^31-1] (MPI's int counts)");
    counts[r] = static_cast<int>(x);
  }
  return counts;
}

std::vector<int> Displacements(Napi::Env env, const std::vector<int>& counts, const char* what) {
  std::vector<int> d(counts.size());
  long long at = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (at > INT_MAX) throw Napi::RangeError::New(env, std::string(what) + ": more than 2^31-1 elements in one exchange");
    d[i] = static_cast<int>(at);
    at += counts[i];
  }
  return d;
}

// The reduction of one step: every rank's slice of `send` arrives in `scratch` (rank i's at i*c),
// then out = ((scratch_0 + scratch_1) + scratch_2) ... in float32, divided by N when averaging.
struct ReduceScatter {
  const float* send;
  float* scratch;
  float* out;
  std::vector<int> counts, sdispls, rcounts, rdispls;
  bool average;

  int Run() {
    const double t0 = MPI_Wtime();
    const int rc = MPI_Alltoallv(send, counts.data(), sdispls.data(), MPI_FLOAT, scratch, rcounts.data(), rdispls.data(), MPI_FLOAT,
                                 MPI_COMM_WORLD);
    const double t1 = MPI_Wtime();
    if (rc != MPI_SUCCESS) return rc;
    const size_t c = static_cast<size_t>(counts[g_rank]);
    std::memcpy(out, scratch, c * sizeof(float));
    for (int i = 1; i < g_size; ++i) {
      const float* from = scratch + static_cast<size_t>(i) * c;
      for (size_t k = 0; k < c; ++k) out[k] += from[k];
    }
    if (average) {
      const float n = static_cast<float>(g_size);
      for (size_t k = 0; k < c; ++k) out[k] /= n;
    }
    g_stats.mpi_seconds += t1 - t0;
    g_stats.sum_seconds += MPI_Wtime() - t1;
    long long sent = 0;
    for (int r = 0; r < g_size; ++r)
      if (r != g_rank) sent += counts[r];
    g_stats.bytes_sent += static_cast<double>(sent) * sizeof(float);
    g_stats.calls += 1;
    return MPI_SUCCESS;
  }
};

ReduceScatter ParseReduceScatter(const Napi::CallbackInfo& info, const char* who) {
  Napi::Env env = info.Env();
  RequireReady(env, who);
  ReduceScatter op;
  size_t n_send, n_scratch, n_out;
  op.send = Floats(env, info[0], std::string(who) + ": send", &n_send);
  op.counts = Counts(env, info[1], std::string(who) + ": counts");
  op.scratch = Floats(env, info[2], std::string(who) + ": scratch", &n_scratch);
  op.out = Floats(env, info[3], std::string(who) + ": out", &n_out);
  op.average = info[4].ToBoolean().Value();
  op.sdispls = Displacements(env, op.counts, who);
  const long long total = static_cast<long long>(op.sdispls.back()) + op.counts.back();
  const int mine = op.counts[g_rank];
  if (static_cast<long long>(n_send) != total) throw Napi::RangeError::New(env, std::string(who) + ": send must hold the sum of the counts");
  if (n_out != static_cast<size_t>(mine)) throw Napi::RangeError::New(env, std::string(who) + ": out must hold this rank's count");
  if (static_cast<long long>(n_scratch) < static_cast<long long>(mine) * g_size)
    throw Napi::RangeError::New(env, std::string(who) + ": scratch must hold size x this rank's count");
  op.rcounts.assign(g_size, mine);
  op.rdispls.resize(g_size);
  if (static_cast<long long>(mine) * g_size > INT_MAX) throw Napi::RangeError::New(env, std::string(who) + ": more than 2^31-1 elements in one exchange");
  for (int r = 0; r < g_size; ++r) op.rdispls[r] = r * mine;
  return op;
}

// Every rank's slice of `all` (in place: this rank's own slice is already there) to every rank.
struct AllGather {
  float* all;
  std::vector<int> counts, displs;

  int Run() {
    const double t0 = MPI_Wtime();
    const int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, all, counts.data(), displs.data(), MPI_FLOAT, MPI_COMM_WORLD);
    g_stats.mpi_seconds += MPI_Wtime() - t0;
    g_stats.bytes_sent += static_cast<double>(counts[g_rank]) * sizeof(float) * (g_size - 1);
    g_stats.calls += 1;
    return rc;
  }
};

AllGather ParseAllGather(const Napi::CallbackInfo& info, const char* who) {
  Napi::Env env = info.Env();
  RequireReady(env, who);
  AllGather op;
  size_t n;
  op.all = Floats(env, info[0], std::string(who) + ": all", &n);
  op.counts = Counts(env, info[1], std::string(who) + ": counts");
  op.displs = Displacements(env, op.counts, who);
  if (static_cast<long long>(n) != static_cast<long long>(op.displs.back()) + op.counts.back())
    throw Napi::RangeError::New(env, std::string(who) + ": all must hold the sum of the counts");
  return op;
}

// Runs an operation on a libuv worker, keeping its arrays alive, and settles a promise.
template <typename Op>
class CollectiveWorker : public Napi::AsyncWorker {
 public:
  CollectiveWorker(Napi::Env env, Op op, const Napi::CallbackInfo& info, size_t arrays)
      : Napi::AsyncWorker(env), op_(std::move(op)), deferred_(Napi::Promise::Deferred::New(env)) {
    for (size_t i = 0; i < arrays; ++i) keep_.push_back(Napi::Persistent(info[i].As<Napi::Object>()));
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { rc_ = op_.Run(); }
  void OnOK() override {
    g_busy.store(false);
    if (rc_ != MPI_SUCCESS)
      deferred_.Reject(Napi::Error::New(Env(), "MPI: collective failed: " + MpiError(rc_)).Value());
    else
      deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    g_busy.store(false);
    deferred_.Reject(e.Value());
  }

 private:
  Op op_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> keep_;
  int rc_ = MPI_SUCCESS;
};

template <typename Op>
Napi::Value Queue(const Napi::CallbackInfo& info, Op op, size_t arrays) {
  if (g_provided < MPI_THREAD_SERIALIZED)
    throw Napi::Error::New(info.Env(), "the MPI library gave thread level < MPI_THREAD_SERIALIZED; asynchronous collectives need it (use step())");
  auto* worker = new CollectiveWorker<Op>(info.Env(), std::move(op), info, arrays);
  g_busy.store(true);
  worker->Queue();
  return worker->Promise();
}

// Open MPI loads its components with dlopen and expects libmpi's symbols to be global; Node loads
// this addon (and so libmpi) with RTLD_LOCAL. Re-opening libmpi with RTLD_GLOBAL fixes that.
void PromoteMpiSymbols() {
  Dl_info where;
  if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &where) && where.dli_fname)
    dlopen(where.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
}

const char* LevelName(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE: return "single";
    case MPI_THREAD_FUNNELED: return "funneled";
    case MPI_THREAD_SERIALIZED: return "serialized";
    default: return "multiple";
  }
}

void FinalizeAtExit(void*) {
  if (g_we_initialized && CurrentState() == State::kActive && !g_busy.load()) MPI_Finalize();
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const State s = CurrentState();
  if (s == State::kFinalized) throw Napi::Error::New(env, "distributed.mpi(): MPI was finalised in this process; it cannot start again");
  if (s == State::kUninitialized) {
    PromoteMpiSymbols();
    Check(env, MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &g_provided), "MPI_Init_thread");
    g_we_initialized = true;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    napi_add_env_cleanup_hook(env, FinalizeAtExit, nullptr);
  } else {
    MPI_Query_thread(&g_provided);
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(version, &len);
  std::string v(version, len);
  if (const size_t nl = v.find_first_of(",\n"); nl != std::string::npos) v.resize(nl);
  Napi::Object out = Napi::Object::New(env);
  out.Set("rank", g_rank);
  out.Set("size", g_size);
  out.Set("threadLevel", LevelName(g_provided));
  out.Set("library", v);
  return out;
}

Napi::Value StateName(const Napi::CallbackInfo& info) {
  switch (CurrentState()) {
    case State::kUninitialized: return Napi::String::New(info.Env(), "uninitialized");
    case State::kActive: return Napi::String::New(info.Env(), "active");
    default: return Napi::String::New(info.Env(), "finalized");
  }
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (CurrentState() != State::kActive) return env.Undefined();
  if (g_busy.load()) throw Napi::Error::New(env, "comm.finalize: an asynchronous collective is in flight; await it first");
  Check(env, MPI_Finalize(), "MPI_Finalize");
  return env.Undefined();
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  RequireReady(info.Env(), "comm.barrier");
  Check(info.Env(), MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  return info.Env().Undefined();
}

// Whether `flag` is true on every rank (an integer AND: exact whatever the algorithm).
Napi::Value Agree(const Napi::CallbackInfo& info) {
  RequireReady(info.Env(), "comm.agree");
  int mine = info[0].ToBoolean().Value() ? 1 : 0, all = 0;
  Check(info.Env(), MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD), "MPI_Allreduce");
  return Napi::Boolean::New(info.Env(), all != 0);
}

// Rank 0's bytes, on every rank.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "comm.broadcast");
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "comm.broadcast: bytes must be a Uint8Array");
  Napi::Uint8Array mine = info[0].As<Napi::Uint8Array>();
  long long n = static_cast<long long>(mine.ElementLength());
  Check(env, MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD), "MPI_Bcast");
  if (n > INT_MAX) throw Napi::RangeError::New(env, "comm.broadcast: more than 2^31-1 bytes");
  Napi::Uint8Array out = Napi::Uint8Array::New(env, static_cast<size_t>(n));
  if (g_rank == 0 && n > 0) std::memcpy(out.Data(), mine.Data(), static_cast<size_t>(n));
  Check(env, MPI_Bcast(out.Data(), static_cast<int>(n), MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
  return out;
}

// Every rank's floats, concatenated in rank order, on rank 0 (null elsewhere).
Napi::Value GatherFloats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "comm.gather");
  size_t n;
  float* data = Floats(env, info[0], "comm.gather: values", &n);
  if (n > INT_MAX) throw Napi::RangeError::New(env, "comm.gather: more than 2^31-1 elements from one rank");
  int mine = static_cast<int>(n);
  std::vector<int> counts(g_size);
  Check(env, MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Gather");
  std::vector<int> displs;
  Napi::Value result = env.Null();
  float* into = nullptr;
  bool ok = true;
  if (g_rank == 0) {
    long long total = 0;
    displs.resize(g_size);
    for (int r = 0; r < g_size; ++r) {
      if (total > INT_MAX) ok = false;
      displs[r] = static_cast<int>(total);
      total += counts[r];
    }
    if (total > INT_MAX) ok = false;
    if (ok) {
      Napi::Float32Array all = Napi::Float32Array::New(env, static_cast<size_t>(total));
      into = all.Data();
      result = all;
    }
  }
  // A rank 0 that cannot receive still takes part (nothing is sent), then throws.
  int go = ok ? 1 : 0;
  Check(env, MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast");
  if (!go) throw Napi::RangeError::New(env, "comm.gather: more than 2^31-1 elements in all");
  Check(env, MPI_Gatherv(data, mine, MPI_FLOAT, into, counts.data(), displs.data(), MPI_FLOAT, 0, MPI_COMM_WORLD), "MPI_Gatherv");
  return result;
}

Napi::Value ReduceScatterSync(const Napi::CallbackInfo& info) {
  ReduceScatter op = ParseReduceScatter(info, "comm.reduceScatter");
  Check(info.Env(), op.Run(), "MPI_Alltoallv");
  return info.Env().Undefined();
}

Napi::Value ReduceScatterAsync(const Napi::CallbackInfo& info) {
  return Queue(info, ParseReduceScatter(info, "comm.reduceScatterAsync"), 4);
}

Napi::Value AllGatherSync(const Napi::CallbackInfo& info) {
  AllGather op = ParseAllGather(info, "comm.allGather");
  Check(info.Env(), op.Run(), "MPI_Allgatherv");
  return info.Env().Undefined();
}

Napi::Value AllGatherAsync(const Napi::CallbackInfo& info) {
  return Queue(info, ParseAllGather(info, "comm.allGatherAsync"), 1);
}

// MPI's own MPI_Reduce_scatter (sum): the bench's comparison only. Its order of addition is the
// library's choice, so its bits may differ from reduceScatter's.
Napi::Value MpiReduceScatter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireReady(env, "comm.mpiReduceScatter");
  size_t n_send, n_out;
  float* send = Floats(env, info[0], "comm.mpiReduceScatter: send", &n_send);
  std::vector<int> counts = Counts(env, info[1], "comm.mpiReduceScatter: counts");
  float* out = Floats(env, info[2], "comm.mpiReduceScatter: out", &n_out);
  std::vector<int> displs = Displacements(env, counts, "comm.mpiReduceScatter");
  if (static_cast<long long>(n_send) != static_cast<long long>(displs.back()) + counts.back() || n_out != static_cast<size_t>(counts[g_rank]))
    throw Napi::RangeError::New(env, "comm.mpiReduceScatter: send must hold the sum of the counts, out this rank's count");
  const double t0 = MPI_Wtime();
  Check(env, MPI_Reduce_scatter(send, out, counts.data(), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Reduce_scatter");
  return Napi::Number::New(env, MPI_Wtime() - t0);
}

Napi::Value GetStats(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("mpiSeconds", g_stats.mpi_seconds);
  o.Set("sumSeconds", g_stats.sum_seconds);
  o.Set("bytesSent", g_stats.bytes_sent);
  o.Set("calls", g_stats.calls);
  if (info[0].ToBoolean().Value()) g_stats = Stats();
  return o;
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("state", Napi::Function::New(env, StateName));
  exports.Set("finalize", Napi::Function::New(env, Finalize));
  exports.Set("barrier", Napi::Function::New(env, Barrier));
  exports.Set("agree", Napi::Function::New(env, Agree));
  exports.Set("broadcast", Napi::Function::New(env, Broadcast));
  exports.Set("gather", Napi::Function::New(env, GatherFloats));
  exports.Set("reduceScatter", Napi::Function::New(env, ReduceScatterSync));
  exports.Set("reduceScatterAsync", Napi::Function::New(env, ReduceScatterAsync));
  exports.Set("allGather", Napi::Function::New(env, AllGatherSync));
  exports.Set("allGatherAsync", Napi::Function::New(env, AllGatherAsync));
  exports.Set("mpiReduceScatter", Napi::Function::New(env, MpiReduceScatter));
  exports.Set("stats", Napi::Function::New(env, GetStats));
  return exports;
}

}  // namespace

NODE_API_MODULE(adam_native_mpi, Module)
