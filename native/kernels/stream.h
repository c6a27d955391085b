// The bandwidth probe's loop (native/stream_probe.cc): p += g, m += g, v += g. The loads and stores
// of an fp32 Adam step (4 arrays read, 3 written) without its arithmetic, through the same vector
// types as the rules. Included inside an ISA namespace (kernels_isa.inc).
template <class V>
void stream_add(float* p, const float* g, float* m, float* v, size_t n) {
  size_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) {
    typename V::F gi = V::load(g + i);
    V::store(p + i, V::add(V::load(p + i), gi));
    V::store(m + i, V::add(V::load(m + i), gi));
    V::store(v + i, V::add(V::load(v + i), gi));
  }
  if constexpr (V::kWidth > 1) stream_add<VecScalar>(p + i, g + i, m + i, v + i, n - i);
}
