// npm run kafka:cycles [-- --cycles 20 --brokers 3 --mode stop|kill] — stops (or kills) and starts one
// broker of a fresh test cluster again and again, each time waiting until it is registered, and
// prints each cycle's time. It shows the harness restarts a broker cleanly, many times in a row.
// While a broker is down, clients keep connecting to it, as a forwarder does: each connection
// attempt takes a source port from the kernel's ephemeral range (tools/kafka/ports.ts says why the
// brokers' own ports lie outside it).
import net from 'node:net';
import { parseArgs } from 'node:util';
import { startKafkaCluster } from '../tools/kafka/cluster.ts';

/** Connection attempts to every port given, over and over, for ms. */
async function reconnectStorm(ports: number[], ms: number): Promise<number> {
  const until = Date.now() + ms;
  let attempts = 0;
  let held = 0;
  while (Date.now() < until) {
    await Promise.all(
      ports.map(
        (port) =>
          new Promise<void>((resolve) => {
            attempts++;
            const socket = net.connect({ port, host: '127.0.0.1' });
            // A connection that opens is held a while, as a client waiting for an answer holds it
            // (on a stopped broker's port that is the kernel connecting the socket to itself).
            socket.once('connect', () => {
              held++;
              setTimeout(() => socket.destroy(), 5_000).unref();
              resolve();
            });
            socket.once('error', () => resolve());
            socket.once('close', () => resolve());
          }),
      ),
    );
  }
  if (held > 0) console.log(`  ${held} connection(s) to a stopped broker's ports opened (connected to themselves)`);
  return attempts;
}

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '20' },
    brokers: { type: 'string', default: '3' },
    mode: { type: 'string', default: 'stop' },
  },
});
const cycles = Number(values.cycles);
const brokers = values.brokers === '1' ? 1 : 3;
const mode = values.mode === 'kill' ? 'kill' : 'stop';

const cluster = await startKafkaCluster({ brokers, onProgress: (message) => console.log(message) });
let failed = 0;
try {
  for (let cycle = 1; cycle <= cycles; cycle++) {
    const id = brokers === 1 ? 1 : ((cycle - 1) % brokers) + 1;
    const started = Date.now();
    try {
      if (mode === 'kill') await cluster.killBroker(id);
      else await cluster.stopBroker(id);
      const attempts = await reconnectStorm(
        cluster.brokers.flatMap((broker) => Object.values(broker.ports)),
        1_000,
      );
      const stopped = Date.now();
      await cluster.startBroker(id);
      await cluster.waitUntilReady(90_000, [id]);
      console.log(
        `cycle ${cycle}/${cycles}: broker ${id} ${mode} + ${attempts} reconnects ${stopped - started} ms, start ${Date.now() - stopped} ms: ok`,
      );
    } catch (error) {
      failed++;
      console.log(
        `cycle ${cycle}/${cycles}: broker ${id} FAILED: ${error instanceof Error ? error.message : String(error)}`,
      );
      await cluster.startBroker(id).catch(() => {});
    }
  }
} finally {
  await cluster.stop();
}
console.log(`${cycles - failed}/${cycles} cycles clean`);
process.exit(failed === 0 ? 0 : 1);
