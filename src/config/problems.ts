// A configuration problem names the setting it is about and the fix, so that an operator can
// correct every mistake in one pass: the loader collects all of them before it throws.

import { ForwarderError } from '../errors.ts';

/** Where a setting sits in the file: keys and array indexes, e.g. ['outputs', 0, 'topic']. */
export type SettingPath = readonly (string | number)[];

export interface ConfigProblem {
  /** The setting, as `outputs[0].bootstrap_servers[1]`; empty for the file as a whole. */
  readonly path: string;
  /** What is wrong. Never contains the value of a secret setting. */
  readonly problem: string;
  /** What to do about it. */
  readonly fix: string;
}

export function formatPath(path: SettingPath): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? part : `.${part}`;
  }
  return text;
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.path === '' ? 'configuration file' : problem.path;
  return `- ${where}: ${problem.problem}; ${problem.fix}`;
}

/** Collects problems while the loader checks the whole file. */
export class ProblemList {
  readonly items: ConfigProblem[] = [];
  /** Settings whose value could not be made at all (an unset variable): what else is said of them follows from that. */
  readonly #unmade = new Set<string>();

  add(path: SettingPath | string, problem: string, fix: string): void {
    const where = typeof path === 'string' ? path : formatPath(path);
    for (const unmade of this.#unmade)
      if (where === unmade || where.startsWith(`${unmade}.`) || where.startsWith(`${unmade}[`)) return;
    this.items.push({ path: where, problem, fix });
  }

  /** Adds the problem and drops any later one about the same setting (its follow-ons). */
  addRoot(path: SettingPath | string, problem: string, fix: string): void {
    this.add(path, problem, fix);
    this.#unmade.add(typeof path === 'string' ? path : formatPath(path));
  }

  get isEmpty(): boolean {
    return this.items.length === 0;
  }
}

/** CONFIG_INVALID, carrying the problems as data as well as in its message. */
export class ConfigInvalidError extends ForwarderError {
  readonly problems: readonly ConfigProblem[];

  constructor(source: string, problems: readonly ConfigProblem[]) {
    super('CONFIG_INVALID', { source, count: problems.length, problems: problems.map(formatProblem).join('\n') });
    this.problems = problems;
  }
}
