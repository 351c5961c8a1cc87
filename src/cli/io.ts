// Where the CLI writes, and the small formatting helpers its commands share. Commands write through
// a CliIo rather than to process.stdout directly, so tests can run them in-process and read what
// they printed.
import type { Writable } from 'node:stream';

export interface CliIo {
  readonly stdout: Writable & { isTTY?: boolean; columns?: number };
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
}

/** The status a shell reports for a process that a broken pipe ended: 128 + SIGPIPE (13). */
const EXIT_BROKEN_PIPE = 141;

let brokenPipeHandled = false;

export function processIo(): CliIo {
  if (!brokenPipeHandled) {
    brokenPipeHandled = true;
    process.stdout.on('error', endOnBrokenPipe);
    process.stderr.on('error', endOnBrokenPipe);
  }
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/**
 * The reader of our output went away (`kafka-forwarder check | head -3`): Node ignores SIGPIPE, so
 * the write fails with EPIPE, and an 'error' event nobody handles would end the process with a
 * stack. End it quietly instead, with the status SIGPIPE would have given. Other errors are thrown
 * on, as they would be without this listener.
 */
function endOnBrokenPipe(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
  throw error;
}

export function println(io: CliIo, line = ''): void {
  io.stdout.write(`${line}\n`);
}

export function eprintln(io: CliIo, line = ''): void {
  io.stderr.write(`${line}\n`);
}

/** Whether colour and in-place updates may be used: a terminal, and NO_COLOR not set. */
export function isInteractive(io: CliIo): boolean {
  return io.stdout.isTTY === true && (io.env.NO_COLOR === undefined || io.env.NO_COLOR === '');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Left-aligned columns, for tables of dead letters and backlogs. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
