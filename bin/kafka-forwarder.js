#!/usr/bin/env -S node --max-semi-space-size=8
// The kafka-forwarder command. The CLI is TypeScript run directly by Node's type stripping
// (Node 22.18+ / 24), so this launcher only checks the version and loads it.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`kafka-forwarder needs Node.js 22.18 or later (24 recommended); this is ${process.version}.\n`);
  process.exit(2);
}
const { runCli } = await import('../src/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
