// Only in portable builds (ADAM_NATIVE_STATIC_RUNTIME, the prebuilt binaries): keeps the glibc
// symbol versions the addon needs as old as the architecture's glibc itself (2.2.5 on x86-64,
// 2.17 on AArch64), so a binary built on a new
// distribution loads on old ones. The statically linked libstdc++/libgcc_eh and our own code
// reference a few functions whose default version is new (pthread_create@GLIBC_2.34 since libpthread
// merged into libc, memcpy@GLIBC_2.14, _dl_find_object@GLIBC_2.35). CMake passes -Wl,--wrap=<name>
// for each, which sends every reference to __wrap_<name> here; each forwards to the oldest version.
#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__linux__)  // and glibc: CMake adds this unit only then

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>

#include <cstddef>
#include <cstdint>

#define ADAM_HIDDEN __attribute__((visibility("hidden")))
#if defined(__aarch64__)
#define ADAM_GLIBC_BASE "GLIBC_2.17"
#else
#define ADAM_GLIBC_BASE "GLIBC_2.2.5"
#endif

// adam_glibc_<name> is bound to <name>@ADAM_GLIBC_BASE; __wrap_<name> forwards to it.
#define ADAM_OLD_GLIBC(ret, name, params, args)                             \
  extern "C" ret adam_glibc_##name params;                                  \
  __asm__(".symver adam_glibc_" #name "," #name "@" ADAM_GLIBC_BASE);       \
  extern "C" ADAM_HIDDEN ret __wrap_##name params { return adam_glibc_##name args; }

ADAM_OLD_GLIBC(int, pthread_create, (pthread_t * t, const pthread_attr_t* a, void* (*f)(void*), void* arg), (t, a, f, arg))
ADAM_OLD_GLIBC(int, pthread_detach, (pthread_t t), (t))
ADAM_OLD_GLIBC(int, pthread_join, (pthread_t t, void** r), (t, r))
ADAM_OLD_GLIBC(int, pthread_once, (pthread_once_t * o, void (*f)()), (o, f))
ADAM_OLD_GLIBC(int, pthread_key_create, (pthread_key_t * k, void (*d)(void*)), (k, d))
ADAM_OLD_GLIBC(int, pthread_key_delete, (pthread_key_t k), (k))
ADAM_OLD_GLIBC(int, __pthread_key_create, (pthread_key_t * k, void (*d)(void*)), (k, d))
ADAM_OLD_GLIBC(void*, pthread_getspecific, (pthread_key_t k), (k))
ADAM_OLD_GLIBC(int, pthread_setspecific, (pthread_key_t k, const void* v), (k, v))
// memcpy@GLIBC_2.2.5 (x86-64) copies like memmove: a superset of the contract, same bytes.
ADAM_OLD_GLIBC(void*, memcpy, (void* d, const void* s, size_t n), (d, s, n))

// libstdc++ (glibc >= 2.32 headers) skips atomic reference counts while this says the process is
// single-threaded. Our own copy, always 0, keeps them atomic: always correct, and needs no 2.32.
extern "C" {
ADAM_HIDDEN char __libc_single_threaded = 0;
}

#ifdef DLFO_STRUCT_HAS_EH_DBASE
// libgcc's unwinder (throwing C++ exceptions) finds the unwind tables of the code at `pc` with
// _dl_find_object (glibc 2.35). The same answer from dl_iterate_phdr, which every glibc has: the
// loaded object whose segments hold pc, and its PT_GNU_EH_FRAME. The unwinder reads dlfo_eh_frame
// (and dlfo_eh_dbase where the struct has it, not on x86-64 or AArch64).
namespace {
struct FindQuery {
  uintptr_t pc;
  dl_find_object* out;
};

int find_object(dl_phdr_info* info, size_t, void* data) {
  auto* q = static_cast<FindQuery*>(data);
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  bool holds_pc = false;
  void* eh_frame = nullptr;
  for (size_t i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD) {
      if (start < lo) lo = start;
      if (start + ph.p_memsz > hi) hi = start + ph.p_memsz;
      if (q->pc >= start && q->pc < start + ph.p_memsz) holds_pc = true;
    } else if (ph.p_type == PT_GNU_EH_FRAME) {
      eh_frame = reinterpret_cast<void*>(start);
    }
  }
  if (!holds_pc) return 0;
  *q->out = dl_find_object{};
  q->out->dlfo_map_start = reinterpret_cast<void*>(lo);
  q->out->dlfo_map_end = reinterpret_cast<void*>(hi);
  q->out->dlfo_eh_frame = eh_frame;
  return 1;
}
}  // namespace

extern "C" ADAM_HIDDEN int __wrap__dl_find_object(void* pc, dl_find_object* out) {
  FindQuery q{reinterpret_cast<uintptr_t>(pc), out};
  return dl_iterate_phdr(find_object, &q) == 1 ? 0 : -1;
}
#endif  // DLFO_STRUCT_HAS_EH_DBASE

#endif  // x86-64 or AArch64 Linux
