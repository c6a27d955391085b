// Gradient utilities as templates over a vector-ops type V, included inside an ISA namespace after
// the vec_*.h headers (kernels_isa.inc). lib/gradops.ts is the TypeScript reference of each.

// One block's sum of squares in float64 (n <= kNormBlock), in the order that defines the norm:
// element i goes to lane i % kNormLanes; each lane adds x*x (exact in float64: a float32 square
// has at most 48 significant bits) in index order; the block's sum is lane 0 + lane 1 + ... + lane
// 15, left to right. A V type holds kDWidth lanes, so kNormLanes/kDWidth accumulators cover the
// lanes on every ISA alike; the block's last n % kNormLanes elements go to their lanes one by one.
template <class V>
double block_sum_squares(const float* x, size_t n) {
  constexpr size_t kAcc = kNormLanes / V::kDWidth;
  static_assert(kAcc * V::kDWidth == kNormLanes, "lanes must fill whole vectors");
  typename V::D acc[kAcc];
  for (size_t a = 0; a < kAcc; ++a) acc[a] = V::dzero();
  size_t i = 0;
  for (; i + kNormLanes <= n; i += kNormLanes)
    for (size_t a = 0; a < kAcc; ++a) {
      typename V::D d = V::load_d(x + i + a * V::kDWidth);
      acc[a] = V::dadd(acc[a], V::dmul(d, d));
    }
  double lanes[kNormLanes];
  for (size_t a = 0; a < kAcc; ++a) V::dstore(lanes + a * V::kDWidth, acc[a]);
  for (size_t j = 0; i < n; ++i, ++j) {
    double d = static_cast<double>(x[i]);
    lanes[j] += d * d;
  }
  double sum = lanes[0];
  for (size_t j = 1; j < kNormLanes; ++j) sum += lanes[j];
  return sum;
}

// Runs op on full vectors, then on the tail one element at a time through VecScalar (the same op).
template <class V, class Op>
inline void map_elements(float* x, size_t n, Op op) {
  size_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) V::store(x + i, op(V(), V::load(x + i)));
  for (; i < n; ++i) x[i] = op(VecScalar(), x[i]);
}

template <class V>
void scale_elements(float* x, size_t n, float factor) {
  map_elements<V>(x, n, [factor](auto v, auto a) { return decltype(v)::mul(a, decltype(v)::set1(factor)); });
}

// min(limit, max(-limit, x)) with the operand order that keeps NaN: max/min return their second
// operand when the comparison fails, so a NaN x comes through both.
template <class V>
void clamp_elements(float* x, size_t n, float limit) {
  map_elements<V>(x, n, [limit](auto v, auto a) {
    using W = decltype(v);
    return W::min(W::set1(limit), W::max(W::set1(-limit), a));
  });
}
