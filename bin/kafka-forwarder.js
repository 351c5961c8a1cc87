#!/usr/bin/env -S node --max-semi-space-size=8
// The kafka-forwarder command. Installed from the package it runs the built JavaScript (dist/);
// in a clone of the repository it runs the TypeScript sources directly (Node's type stripping).
// The minimum Node version is the one package.json's "engines" states, read from there.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- plain JavaScript: package.json and the CLI module are read at run time */
import { existsSync, readFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const minimum = (/(\d+)\.(\d+)\.(\d+)/.exec(manifest.engines.node) ?? ['', '0', '0', '0']).slice(1).map(Number);
const running = process.versions.node.split('.').map(Number);
const older =
  running[0] !== minimum[0]
    ? running[0] < minimum[0]
    : running[1] !== minimum[1]
      ? running[1] < minimum[1]
      : running[2] < minimum[2];
if (older) {
  process.stderr.write(
    `kafka-forwarder needs Node.js ${minimum.join('.')} or later (24 recommended); this is ${process.version}.\n`,
  );
  process.exit(2);
}
const sources = new URL('../src/cli/main.ts', import.meta.url);
const entry = existsSync(sources) ? sources.href : new URL('../dist/cli/main.js', import.meta.url).href;
const { runCli } = await import(entry);
process.exitCode = await runCli(process.argv.slice(2));
