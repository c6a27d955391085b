import type { Reporter, TestModule } from 'vitest/node';

/**
 * After the default reporter: one line per reason tests were skipped for, taken from the
 * "(skipped: <reason>)" that skipping tests put in their own or their group's title.
 */
export default class SkipSummary implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const byReason = new Map<string, number>();
    for (const m of modules)
      for (const test of m.children.allTests()) {
        if (test.result().state !== 'skipped') continue;
        const reason = /\(skipped: (.*)\)/.exec(test.fullName)?.[1] ?? 'no reason in the title';
        byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
      }
    for (const [reason, count] of [...byReason].sort((a, b) => b[1] - a[1]))
      console.log(`  ${count} test${count === 1 ? '' : 's'} skipped: ${reason}`);
  }
}
