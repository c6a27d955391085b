import { SingleBar } from 'cli-progress';
import type { RunResult } from './train';

/** How one run reports: a bar on a terminal, one plain line per run otherwise (readable CI logs). */
export interface RunProgress {
  tick(step: number, totalSteps: number, loss: number): void;
  done(result: RunResult): void;
}

/** Exactly `width` characters: padded, or cut with an ellipsis, so the columns after it line up. */
export function fitLabel(label: string, width: number): string {
  return label.length <= width ? label.padEnd(width) : `${label.slice(0, width - 1)}…`;
}

export function summaryLine(r: RunResult): string {
  const outcome = r.diverged
    ? 'diverged'
    : `train NLL ${r.trainNLL.toFixed(4)}  test accuracy ${(100 * r.testAccuracy).toFixed(2)}%`;
  return `${fitLabel(r.experiment, 15)} ${fitLabel(r.optimizer, 30)} lr ${String(r.lr).padEnd(7)} ${outcome}  ${r.seconds.toFixed(1)}s`;
}

export function runProgress(label: string, totalSteps: number, stream: NodeJS.WriteStream = process.stderr): RunProgress {
  if (!stream.isTTY)
    return {
      tick: () => {},
      done: (r) => void stream.write(`${summaryLine(r)}\n`),
    };
  const bar = new SingleBar({
    format: `${fitLabel(label, 48)} {bar} {percentage}% | NLL {nll} | {duration}s`,
    barsize: 24,
    stream,
    hideCursor: true,
    // The training loop is synchronous: redraw from update() rather than from a timer.
    synchronousUpdate: true,
  });
  bar.start(totalSteps, 0, { nll: '-' });
  return {
    tick: (step, _total, loss) => bar.update(step, { nll: loss.toFixed(4) }),
    done: (r) => {
      bar.update(totalSteps, { nll: r.diverged ? 'diverged' : r.trainNLL.toFixed(4) });
      bar.stop();
    },
  };
}
