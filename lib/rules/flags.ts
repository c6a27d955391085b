/** Option bits of the update rules; native/kernels/kernel_api.h has the same values (checked at load). */
export const Flag = {
  maximize: 1 << 0,
  l2: 1 << 1,
  decoupledDecay: 1 << 2,
  amsgrad: 1 << 3,
  gradScale: 1 << 4,
  momentum: 1 << 5,
  nesterov: 1 << 6,
  firstStep: 1 << 7,
  centered: 1 << 8,
  rectified: 1 << 9,
} as const;
