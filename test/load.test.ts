import { describe, expect, it } from 'vitest';
import type { Binding } from '../binding';
import { checkLayout, libRules, loadNative } from '../lib/backends/load';
import { Flag } from '../lib/rules/flags';
import { NATIVE_LOADED } from './helpers';

// The TS<->native contract is checked by name: the loader compares each rule's slot and scalar
// names, in order, with the addon's and refuses an addon that differs, naming the first difference.
function fakeBinding(): Pick<Binding, 'rules' | 'flags'> {
  const rules: Binding['rules'] = {};
  libRules().forEach((r, id) => (rules[r.name] = { id, slots: [...r.slotNames], scalars: [...r.scalarNames] }));
  return { rules, flags: { ...Flag } };
}

describe('the load-time contract check', () => {
  it('accepts an addon with the names of lib/rules', () => {
    expect(checkLayout(fakeBinding())).toBeNull();
  });

  it.skipIf(!NATIVE_LOADED)('accepts the built addon: native/kernels/rules.h declares the same names', () => {
    expect(checkLayout(loadNative().binding!)).toBeNull();
  });

  it('refuses two scalars swapped, naming the first difference', () => {
    const b = fakeBinding();
    const s = b.rules.adam.scalars as string[];
    [s[0], s[2]] = [s[2], s[0]];
    expect(checkLayout(b)).toBe(
      "the addon's rule 'adam' differs from lib/: scalar 0 is 'beta2' in the addon and 'beta1' in lib/ (rebuild the addon)",
    );
  });

  it('refuses a missing or extra name, a renamed slot, a missing rule and a different flag bit', () => {
    let b = fakeBinding();
    (b.rules.sgd.scalars as string[]).pop();
    expect(checkLayout(b)).toMatch(/rule 'sgd' differs from lib\/: scalar 4 is missing in the addon and 'gradScale' in lib\//);
    b = fakeBinding();
    (b.rules.rmsprop.slots as string[]).push('extra');
    expect(checkLayout(b)).toMatch(/rule 'rmsprop' differs from lib\/: slot 5 is 'extra' in the addon and missing in lib\//);
    b = fakeBinding();
    (b.rules.adagrad.slots as string[])[2] = 'state_sum';
    expect(checkLayout(b)).toMatch(/slot 2 is 'state_sum' in the addon and 'sum' in lib\//);
    b = fakeBinding();
    delete b.rules.adamax;
    expect(checkLayout(b)).toBe("the addon has no rule 'adamax' (rebuild the addon)");
    b = fakeBinding();
    b.flags.centered = 1 << 12;
    expect(checkLayout(b)).toMatch(/flag 'centered' differs/);
  });
});
