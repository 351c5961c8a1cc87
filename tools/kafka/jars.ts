// Downloads the Kafka broker and tools jars from Maven Central once, into .cache/kafka/<version>/libs.
// Maven does the resolving (the pom lists kafka_2.13, kafka-tools and a log4j2 SLF4J binding);
// we only copy the resolved runtime dependencies into one flat folder for `java -cp 'libs/*'`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { DevKafkaError } from './errors.ts';
import { KAFKA_VERSION, libsCompleteMarker, libsDir, pomPath } from './paths.ts';

export type ProgressListener = (message: string) => void;

export function kafkaJarsPresent(): boolean {
  return existsSync(libsCompleteMarker);
}

/** Makes sure the jars are cached; runs Maven only when they are not. Returns the libs folder. */
export async function ensureKafkaJars(onProgress: ProgressListener = () => {}): Promise<string> {
  if (kafkaJarsPresent()) {
    onProgress(`Kafka ${KAFKA_VERSION} jars already cached in ${libsDir}`);
    return libsDir;
  }
  onProgress(`Downloading Kafka ${KAFKA_VERSION} jars from Maven Central into ${libsDir} (about 55 MB, once)…`);
  await rm(libsDir, { recursive: true, force: true });
  await mkdir(libsDir, { recursive: true });
  const args = [
    '-B',
    '-ntp',
    '-Dstyle.color=never',
    '-f',
    pomPath,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${libsDir}`,
    '-DincludeScope=runtime',
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = (chunk: Buffer): void => {
      // Without the colour codes Maven emits even in batch mode.
      for (const line of chunk
        .toString('utf8')
        .replace(/\x1b\[[0-9;]*m/g, '')
        .split('\n')) {
        if (line.trim() !== '') onProgress(`  mvn: ${line.trimEnd()}`);
      }
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('error', (error) => reject(new DevKafkaError('cannot run mvn (is Maven installed?)', { cause: error })));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new DevKafkaError(`mvn dependency:copy-dependencies exited with ${code}`)),
    );
  });
  await writeFile(libsCompleteMarker, `${new Date().toISOString()}\n`);
  onProgress(`Kafka ${KAFKA_VERSION} jars ready.`);
  return libsDir;
}
