// What is running: the package's version (from its package.json, which sits two folders up from
// this file both in the sources, src/telemetry/, and once built, dist/telemetry/) and Node's.
import { readFileSync } from 'node:fs';

export interface BuildInfo {
  readonly version: string;
  readonly node: string;
}

function packageVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const BUILD_INFO: BuildInfo = { version: packageVersion(), node: process.version };
