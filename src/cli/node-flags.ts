// V8 flags the server process runs with. They are also written in package.json ("start") and in
// bin/kafka-forwarder.js (its #! line), which cannot import this file; benchmarks import it so
// that what they measure is what runs.
//
// --max-semi-space-size=8: V8's young generation otherwise grows to 3 x 16 MB semi-spaces under
// ingest load. With 8 MB, `npm run bench:ingest`'s server peaked at 203 MB RSS instead of 314 MB,
// with the same throughput (measured 2026-11-24 on the 2-core CI machine).
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
