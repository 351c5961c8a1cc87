// npm run bench: every benchmark in turn, each in its own process so that one's heap and JIT
// state do not colour the next. Each prints its own figures; this prints which one is running
// and how long it took. Pass names to run a subset: npm run bench -- json spool
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES: Record<string, string> = {
  json: 'json-parse.ts',
  pipeline: 'pipeline.ts',
  spool: 'spool.ts',
  ingest: 'ingest.ts',
  forward: 'forward.ts',
  cluster: 'cluster.ts',
  rebuild: 'rebuild.ts',
};

const selected = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(BENCHES);
let failed = 0;
for (const name of selected) {
  const file = BENCHES[name];
  if (file === undefined) {
    console.error(`unknown benchmark "${name}"; choose from ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== bench:${name} (bench/${file}) ===`);
  const started = performance.now();
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url))], { stdio: 'inherit' });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `=== bench:${name} ${result.status === 0 ? 'done' : `FAILED (exit ${result.status})`} in ${seconds} s ===`,
  );
  if (result.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
