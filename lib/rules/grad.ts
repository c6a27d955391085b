import { Flag } from './flags';

const f = Math.fround;

/** What every rule does to the raw grad before its own update (the optimizer fills gradScale). */
export interface GradOptions {
  maximize: boolean;
  weightDecay: number;
  /** Grads are divided by this (loss scaling); 1 leaves them as they are. */
  gradScale: number;
}

/** The flags of effectiveGrad. `l2`: whether weightDecay is added to g (false for AdamW). */
export function gradFlags(o: GradOptions, l2 = o.weightDecay !== 0): number {
  return (o.maximize ? Flag.maximize : 0) | (l2 ? Flag.l2 : 0) | (o.gradScale !== 1 ? Flag.gradScale : 0);
}

/**
 * The gradient every rule steps with; native/kernels/rules.h effective_grad, in the same order:
 *   gradScale: g = grad/gradScale (a division, never a reciprocal multiply);  maximize: g = -g;
 *   L2: g = g + weightDecay*p
 */
export function effectiveGrad(flags: number, grad: number, p: number, gradScale: number, weightDecay: number): number {
  let g = grad;
  if (flags & Flag.gradScale) g = f(g / gradScale);
  if (flags & Flag.maximize) g = -g;
  if (flags & Flag.l2) g = f(g + f(weightDecay * p));
  return g;
}
