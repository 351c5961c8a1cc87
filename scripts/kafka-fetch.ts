// npm run kafka:fetch — downloads the Kafka jars from Maven Central into .cache/kafka (once).
import { ensureKafkaJars } from '../tools/kafka/jars.ts';

try {
  await ensureKafkaJars((message) => console.log(message));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
