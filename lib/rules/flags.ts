/** Option bits of the update rules; native/kernels/kernel_api.h has the same values (checked at load). */
export const Flag = {
  maximize: 1 << 0,
  l2: 1 << 1,
  decoupledDecay: 1 << 2,
  amsgrad: 1 << 3,
} as const;
