// Shared by the deploy tests: where the deploy files and the checking tools are, and how a shipped
// configuration is checked. The tools come from tools/deploy-check/install.sh (into
// .cache/deploy-check/); a test whose tool cannot be installed fails and says why, so that a check
// is never skipped quietly.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { loadConfig, type ForwarderConfig } from '../../src/config/index.ts';
import { tempDir } from '../support/temp-dir.ts';

export const run = promisify(execFile);
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOOLS = path.join(REPO_ROOT, '.cache', 'deploy-check');
export const SCHEMAS = path.join(TOOLS, 'schemas');
/** As in tools/deploy-check/install.sh: the oldest Kubernetes the manifests support, the newest. */
export const KUBERNETES_VERSIONS = ['1.30.0', '1.37.0'];

export function repoFile(relative: string): string {
  return path.join(REPO_ROOT, relative);
}

let installed: Promise<void> | undefined;

/**
 * The path of a tool. The first call runs tools/deploy-check/install.sh (idempotent: a few
 * milliseconds when everything is there, as the Kafka jars are fetched on first use), so that
 * `npm test` works on a fresh clone; a tool it cannot install fails the test with its reason.
 */
export async function tool(name: 'kubeconform' | 'kustomize' | 'deploy-lint' | 'systemd-analyze'): Promise<string> {
  installed ??= runChecked('bash', [repoFile('tools/deploy-check/install.sh')]).then(() => undefined);
  await installed;
  const file = name === 'systemd-analyze' ? '/usr/bin/systemd-analyze' : path.join(TOOLS, 'bin', name);
  assert.ok(existsSync(file), `${name} is not installed: run tools/deploy-check/install.sh`);
  return file;
}

/** Runs a command; on failure the assertion carries its output, not just the exit code. */
export async function runChecked(
  command: string,
  args: readonly string[],
  options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ stdout: string; stderr: string }> {
  const child = run(command, args, { cwd: options.cwd ?? REPO_ROOT, env: options.env, maxBuffer: 64 << 20 });
  if (options.input !== undefined) {
    child.child.stdin?.end(options.input);
  }
  try {
    return await child;
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    assert.fail(
      `${path.basename(command)} ${args.join(' ')} exited ${String(failed.code)}:\n${failed.stdout ?? ''}${failed.stderr ?? ''}`,
    );
  }
}

/** Every `*_file` value in a configuration as written, with its key path. */
export function filePaths(value: unknown, at = ''): { key: string; path: string }[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => filePaths(item, `${at}[${index}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    const keyPath = at === '' ? key : `${at}.${key}`;
    if (key.endsWith('_file') && typeof inner === 'string') return [{ key: keyPath, path: inner }];
    return filePaths(inner, keyPath);
  });
}

export function parseYaml(text: string): unknown {
  return parse(text) as unknown;
}

export function isInside(file: string, dir: string): boolean {
  const relative = path.posix.relative(dir, file);
  return relative !== '' && !relative.startsWith('..') && !path.posix.isAbsolute(relative);
}

/**
 * A shipped configuration checked as the product checks it: `kafka-forwarder check` from the
 * sources, with `env`, and the secret files it names present. The secrets live where the
 * deployment mounts them (`secretDir`, e.g. /run/secrets); that prefix is swapped for a temporary
 * folder holding dummy files, and nothing else in the text changes. Returns the loaded
 * configuration, defaults filled in. With `realSecrets` (a folder of real files, e.g. generated
 * certificates), the prefix points there instead and no dummies are written.
 */
export async function checkShippedConfig(
  text: string,
  options: { env: Record<string, string>; secretDir?: string; realSecrets?: string },
): Promise<ForwarderConfig> {
  const temp = await tempDir('deploy-config');
  try {
    const secrets = options.realSecrets ?? path.join(temp.dir, 'secrets');
    if (options.realSecrets === undefined) await mkdir(secrets);
    const dir = options.secretDir;
    const rewritten = dir === undefined ? text : text.replaceAll(`${dir}/`, `${secrets}/`);
    const env: Record<string, string> = { ...options.env };
    if (dir === undefined) env.CREDENTIALS_DIRECTORY = secrets;
    for (const { path: file } of filePaths(parseYaml(rewritten))) {
      const resolved = file.replaceAll('${CREDENTIALS_DIRECTORY}', secrets);
      assert.ok(isInside(resolved, secrets), `${file} lies in the secrets folder`);
      if (options.realSecrets === undefined) await writeFile(resolved, 'dummy-secret\n');
      else assert.ok(existsSync(resolved), `${file} exists`);
    }
    const configFile = path.join(temp.dir, 'kafka-forwarder.yaml');
    await writeFile(configFile, rewritten);
    const checked = await runChecked(process.execPath, [repoFile('src/cli/main.ts'), 'check', '--config', configFile], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    assert.match(checked.stdout, /^OK: .* is valid\./m);
    return await loadConfig({ path: configFile, env });
  } finally {
    await temp.remove();
  }
}
