// npm run kafka:down [-- --all] — stops the Kafka started by kafka:up, and test clusters whose
// owner (a test run) is gone but which are still registered in .cache/kafka/running (their
// brokers' pidfiles say which Java to stop). Clusters of a test run that is still going are left
// alone unless --all is given.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { attachKafkaCluster, listRegisteredClusters } from '../tools/kafka/cluster.ts';
import { devClusterDir } from '../tools/kafka/paths.ts';
import { isAlive } from '../tools/kafka/processes.ts';

const stopAll = process.argv.includes('--all');
const descriptors = new Set(await listRegisteredClusters());
const devDescriptor = path.join(devClusterDir, 'cluster.json');
if (existsSync(devDescriptor)) descriptors.add(devDescriptor);

let stopped = 0;
for (const descriptorPath of descriptors) {
  try {
    const cluster = attachKafkaCluster(descriptorPath);
    const { ownerPid, dir } = cluster.descriptor;
    const running = cluster.runningBrokerIds();
    if (!stopAll && ownerPid !== 0 && ownerPid !== process.pid && isAlive(ownerPid) && running.length > 0) {
      console.log(`Leaving ${dir} alone: it belongs to running process ${ownerPid} (--all stops it too).`);
      continue;
    }
    if (running.length > 0) {
      console.log(`Stopping ${running.length} broker(s) of ${dir}…`);
      stopped += running.length;
    }
    await cluster.stop();
  } catch (error) {
    console.error(`${descriptorPath}: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
console.log(stopped > 0 ? `Stopped ${stopped} broker(s).` : 'No Kafka broker needed stopping.');
