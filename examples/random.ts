/** Seeded uniform [0, 1) generator (mulberry32): every run of the demo sees the same numbers. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle in place, driven by `random`. */
export function shuffle(a: Int32Array, random: () => number): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** Uniform in [-limit, limit): Glorot/He-style initialisation without Box-Muller's logs. */
export function fillUniform(a: Float32Array, limit: number, random: () => number): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = (2 * random() - 1) * limit;
  return a;
}
