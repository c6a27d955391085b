/**
 * A rule's slot and scalar names, declared once per rule `as const` in the order of its struct in
 * native/kernels/rules.h; the addon exports the same names and lib/backends/load.ts refuses an
 * addon whose names differ. Indices derive from the names.
 */
export interface RuleNames {
  /** 'param', 'grad', then the state slots (PyTorch names). */
  readonly slotNames: readonly string[];
  /** The state slots: slotNames after param and grad. */
  readonly stateSlots: readonly string[];
  /** The per-step scalars, in the order the kernels read them. */
  readonly scalarNames: readonly string[];
  readonly scalarCount: number;
}

export function ruleNames(slots: readonly ['param', 'grad', ...string[]], scalars: readonly string[]): RuleNames {
  return { slotNames: slots, stateSlots: slots.slice(2), scalarNames: scalars, scalarCount: scalars.length };
}

/** Each name's position: indices(['a', 'b'] as const) is { a: 0, b: 1 }. */
export function indices<const N extends readonly string[]>(names: N): { readonly [K in N[number]]: number } {
  return Object.fromEntries(names.map((name, i) => [name, i])) as { [K in N[number]]: number };
}
