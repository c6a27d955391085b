/**
 * The paper's step-size decay, lr/sqrt(epoch), as a schedule of the 1-based optimizer step t:
 * epoch = 1 + floor((t-1)/stepsPerEpoch), so every step of the first epoch takes lr.
 */
export function lrOverSqrtEpoch(lr: number, stepsPerEpoch: number): (step: number) => number {
  return (step) => lr / Math.sqrt(1 + Math.floor((step - 1) / stepsPerEpoch));
}
