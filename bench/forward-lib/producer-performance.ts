// Runs Kafka's own ProducerPerformance (kafka-tools) against a broker with the same security as
// the forwarder's output, and parses its summary line.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface ProducerPerformanceResult {
  records: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  avgLatencyMs: number;
  p99LatencyMs: number;
  line: string;
}

export interface ProducerPerformanceOptions {
  readonly classPath: string;
  readonly topic: string;
  readonly records: number;
  readonly recordSize: number;
  readonly bootstrap: string;
  readonly mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  readonly username: string;
  readonly password: string;
  readonly caPemPath: string;
  /** A directory for the properties file (it holds the password; mode 0600). */
  readonly workDir: string;
  readonly timeoutMs: number;
}

export async function runProducerPerformance(options: ProducerPerformanceOptions): Promise<ProducerPerformanceResult> {
  // The JAAS line goes in a properties file, not on the command line, where `ps` would show it.
  const propsFile = path.join(options.workDir, 'producer-performance.properties');
  await writeFile(
    propsFile,
    [
      `bootstrap.servers=${options.bootstrap}`,
      'acks=all',
      'enable.idempotence=true',
      'security.protocol=SASL_SSL',
      `sasl.mechanism=${options.mechanism}`,
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${options.username}" password="${options.password}";`,
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${options.caPemPath}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const args = [
    '-Xmx512m',
    '-XX:+UseSerialGC',
    '-cp',
    options.classPath,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    options.topic,
    '--num-records',
    String(options.records),
    '--record-size',
    String(options.recordSize),
    '--throughput',
    '-1',
    '--command-config',
    propsFile,
  ];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`ProducerPerformance exited with ${code}:\n${text.slice(-3000)}`));
    });
  });
  // "50000 records sent, 41322.3 records/sec (39.41 MB/sec), 512.3 ms avg latency, 900.0 ms max latency, 480 ms 50th, 850 ms 95th, 890 ms 99th, 899 ms 99.9th."
  const line =
    output
      .split('\n')
      .filter((candidate) => /records sent, .* records\/sec/.test(candidate))
      .at(-1) ?? '';
  const match =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency.* ([\d.]+) ms 99th/.exec(
      line,
    );
  if (match === null) throw new Error(`cannot parse ProducerPerformance output:\n${output.slice(-3000)}`);
  return {
    records: Number(match[1]),
    recordsPerSecond: Number(match[2]),
    mbPerSecond: Number(match[3]),
    avgLatencyMs: Number(match[4]),
    p99LatencyMs: Number(match[5]),
    line: line.trim(),
  };
}
