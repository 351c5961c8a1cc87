// npm run kafka:down — stops the Kafka started by kafka:up, and any test cluster a killed test
// run left registered in .cache/kafka/running (their brokers' pidfiles say which Java to stop).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { attachKafkaCluster, listRegisteredClusters } from '../tools/kafka/cluster.ts';
import { devClusterDir } from '../tools/kafka/paths.ts';

const descriptors = new Set(await listRegisteredClusters());
const devDescriptor = path.join(devClusterDir, 'cluster.json');
if (existsSync(devDescriptor)) descriptors.add(devDescriptor);

let stopped = 0;
for (const descriptorPath of descriptors) {
  try {
    const cluster = attachKafkaCluster(descriptorPath);
    const running = cluster.runningBrokerIds();
    if (running.length > 0) {
      console.log(`Stopping ${running.length} broker(s) of ${cluster.descriptor.dir}…`);
      stopped += running.length;
    }
    await cluster.stop();
  } catch (error) {
    console.error(`${descriptorPath}: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
console.log(stopped > 0 ? `Stopped ${stopped} broker(s).` : 'No Kafka broker was running.');
