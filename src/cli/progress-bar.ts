// A progress bar for long CLI operations (dlq replay): redrawn in place on a terminal, and on
// anything else (a pipe, a log file, CI) a plain line at every tenth of the way, so logs stay readable.
import type { CliIo } from './io.ts';
import { isInteractive } from './io.ts';

export interface ProgressBar {
  /** Marks `count` more items done. */
  tick(count?: number): void;
  /** Ends the bar (a final line on terminals). */
  done(): void;
}

const WIDTH = 30;

export function createProgressBar(io: CliIo, label: string, total: number): ProgressBar {
  const interactive = isInteractive(io);
  let current = 0;
  let lastTenth = -1;
  const render = (): string => {
    const ratio = total === 0 ? 1 : current / total;
    const filled = Math.round(ratio * WIDTH);
    return `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${current}/${total} ${Math.round(ratio * 100)}%`;
  };
  const draw = (): void => {
    if (interactive) {
      io.stdout.write(`\r${render()}`);
      return;
    }
    const tenth = total === 0 ? 10 : Math.floor((current / total) * 10);
    if (tenth !== lastTenth) {
      lastTenth = tenth;
      io.stdout.write(`${render()}\n`);
    }
  };
  draw();
  return {
    tick(count = 1) {
      current = Math.min(total, current + count);
      draw();
    },
    done() {
      if (interactive) io.stdout.write('\n');
      else if (lastTenth !== 10) io.stdout.write(`${render()}\n`);
    },
  };
}
