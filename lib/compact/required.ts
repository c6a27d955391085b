import { Flag } from '../rules/flags';

/**
 * The state slots a rule reads and writes under these flags, as Rule::required in
 * native/kernels/rules.h (every state slot a rule requires it also writes): the compact driver
 * widens and narrows exactly these, so a slot the options no longer use is left as it is.
 */
export function requiredState(rule: string, flags: number, slot: string): boolean {
  switch (rule) {
    case 'adam':
      return slot !== 'max_exp_avg_sq' || (flags & Flag.amsgrad) !== 0;
    case 'sgd':
      return (flags & Flag.momentum) !== 0;
    case 'rmsprop':
      if (slot === 'momentum_buffer') return (flags & Flag.momentum) !== 0;
      if (slot === 'grad_avg') return (flags & Flag.centered) !== 0;
      return true;
    default:
      return true;
  }
}
