// Helpers for CLI tests: run the CLI in-process with captured output, and write config files.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Runs `kafka-forwarder <argv>` in this process; stdout is not a terminal. */
export async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const stdout = collector();
  const stderr = collector();
  const code = await runCli(argv, { stdout: stdout.stream, stderr: stderr.stream, env });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

export interface OutputYaml {
  bootstrap: string;
  topic: string;
  mechanism?: string;
  username?: string;
  password?: string;
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
}

/** A complete configuration with one input, one output and one connection; returns its path. */
export async function writeConfig(dir: string, output: OutputYaml, extra = ''): Promise<string> {
  const lines = [
    'server:',
    '  host: 127.0.0.1',
    '  port: 0',
    'admin:',
    '  host: 127.0.0.1',
    '  port: 0',
    'spool:',
    `  path: ${path.join(dir, 'spool')}`,
    '  max_bytes: 10485760',
    'inputs:',
    '  - name: web',
    '    credentials:',
    '      - api_key: test-key',
    '        api_secret: ${TEST_API_SECRET}',
    'outputs:',
    '  - name: events',
    `    bootstrap_servers: "${output.bootstrap}"`,
    `    topic: ${output.topic}`,
    ...(output.mechanism !== undefined ? [`    authentication_method: ${output.mechanism}`] : []),
    ...(output.username !== undefined ? [`    username: ${output.username}`] : []),
    ...(output.password !== undefined ? [`    password: "${output.password}"`] : []),
    ...(output.caFile !== undefined ? [`    ca_file: ${output.caFile}`] : []),
    ...(output.clientCertFile !== undefined ? [`    client_cert_file: ${output.clientCertFile}`] : []),
    ...(output.clientKeyFile !== undefined ? [`    client_key_file: ${output.clientKeyFile}`] : []),
    '    connect_timeout_ms: 5000',
    'connections:',
    '  - name: web-to-events',
    '    input: web',
    '    output: events',
  ];
  const file = path.join(dir, 'kafka-forwarder.yaml');
  await writeFile(file, `${lines.join('\n')}\n${extra}`);
  return file;
}
