// Runs Kafka's own Java command-line tools from the cached jars, for tests that compare our
// client's behaviour with the Java client's.
import { spawn } from 'node:child_process';
import { DevKafkaError } from './errors.ts';
import { classPath } from './paths.ts';

const JVM_OPTIONS = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:-UsePerfData'];

/**
 * Produces keyed records with the Java console producer (org.apache.kafka.tools.ConsoleProducer,
 * default partitioner, UTF-8 string keys). Keys and values must not contain tabs or newlines.
 */
export async function produceWithJavaConsoleProducer(
  bootstrapServers: string,
  topic: string,
  records: readonly { key: string; value: string }[],
): Promise<void> {
  for (const { key, value } of records) {
    if (/[\t\n\r]/.test(key + value)) throw new TypeError('keys and values must not contain tabs or newlines');
  }
  const args = [
    ...JVM_OPTIONS,
    '-cp',
    classPath,
    'org.apache.kafka.tools.ConsoleProducer',
    '--bootstrap-server',
    bootstrapServers,
    '--topic',
    topic,
    '--property',
    'parse.key=true',
    '--property',
    'key.separator=\t',
    '--producer-property',
    'acks=all',
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('java', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new DevKafkaError(`ConsoleProducer exited with ${code}: ${stderr}`)),
    );
    child.stdin.end(records.map(({ key, value }) => `${key}\t${value}\n`).join(''));
  });
}
