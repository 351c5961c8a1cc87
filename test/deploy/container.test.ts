// The Dockerfile and compose.yaml, checked without a Docker engine: BuildKit's own parser and
// linter, and compose-go's loader (tools/deploy-check/lint), then the facts they must agree on
// with the package, the configuration they ship and each other. The image was never built here
// (no engine, no base images); docs/deployment.md says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../support/temp-dir.ts';
import { checkShippedConfig, isInside, repoFile, runChecked, tool } from './support.ts';

interface Instruction {
  command: string;
  flags: string[] | null;
  args: string[] | null;
  jsonForm: boolean;
  original: string;
}
interface Stage {
  name: string;
  baseName: string;
  instructions: Instruction[];
}

const IMAGE_CONFIG = '/etc/kafka-forwarder/kafka-forwarder.yaml';
const IMAGE_USER = '1000:1000';

async function parseDockerfile(file: string): Promise<Stage[]> {
  const { stdout } = await runChecked(await tool('deploy-lint'), ['dockerfile', file]);
  return JSON.parse(stdout) as Stage[];
}

function instructions(stage: Stage, command: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.command === command);
}

function single(stage: Stage, command: string): Instruction {
  const found = instructions(stage, command);
  assert.equal(found.length, 1, `one ${command} in stage ${stage.name}`);
  return found[0];
}

/** The image's default configuration, checked with the environment the docs give `docker run`. */
async function imageConfig() {
  const text = readFileSync(repoFile('deploy/container/kafka-forwarder.yaml'), 'utf8');
  return await checkShippedConfig(text, {
    env: { MP_API_KEY: 'key', KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092', KAFKA_USERNAME: 'forwarder' },
    secretDir: '/run/secrets',
  });
}

test('BuildKit parses the Dockerfile and its linter (every rule) has no warning', async () => {
  const stages = await parseDockerfile(repoFile('Dockerfile'));
  assert.deepEqual(
    stages.map((stage) => stage.name),
    ['build', 'runtime'],
    'multi-stage: the build tools stay out of the image',
  );
});

test('the linter fails a Dockerfile it warns about, so the check above can fail', async () => {
  const temp = await tempDir('dockerfile');
  try {
    const broken = path.join(temp.dir, 'Dockerfile');
    const text = readFileSync(repoFile('Dockerfile'), 'utf8');
    assert.match(text, / AS runtime$/m);
    // FromAsCasing: `as` in lower case after an upper-case FROM.
    await writeFile(broken, text.replace(/ AS runtime$/m, ' as runtime'));
    const linted = await promisify(execFile)(await tool('deploy-lint'), ['dockerfile', broken]).then(
      () => assert.fail('deploy-lint accepted a Dockerfile its linter warns about'),
      (error: unknown) => error as { code: number; stderr: string },
    );
    assert.equal(linted.code, 1);
    assert.match(linted.stderr, /FromAsCasing/);
  } finally {
    await temp.remove();
  }
});

test('the runtime stage: the package test’s install step, a non-root user, node as PID 1, the spool on a volume', async () => {
  const [build, runtime] = await parseDockerfile(repoFile('Dockerfile'));
  const config = await imageConfig();

  // Built and packed in the build stage (prepack runs tsc), installed by the script that
  // test/package/ runs before it tests the installed command against Kafka.
  assert.ok(
    instructions(build, 'RUN').some((run) => /\bnpm pack\b/.test(run.args?.join(' ') ?? '')),
    'npm pack in the build stage',
  );
  const installs = instructions(runtime, 'RUN').filter((run) =>
    (run.args?.join(' ') ?? '').includes('install-package.sh'),
  );
  assert.equal(installs.length, 1, 'the runtime stage runs deploy/container/install-package.sh');
  assert.match(
    readFileSync(repoFile('test/package/package.test.ts'), 'utf8'),
    /deploy\/container\/install-package\.sh/,
    'the package test runs the same script',
  );
  const installCommand = installs[0].args?.join(' ') ?? '';
  const installDir = /install-package\.sh \S+ (\S+)/.exec(installCommand)?.[1];
  assert.equal(installDir, '/opt/kafka-forwarder');

  // Exec form, node itself: SIGTERM reaches the forwarder, not a shell; the file is the package's
  // built entry point, with the flag the package's bin gives node.
  const entrypoint = single(runtime, 'ENTRYPOINT');
  assert.equal(entrypoint.jsonForm, true);
  const args = entrypoint.args ?? [];
  assert.equal(args[0], 'node');
  assert.equal(args.at(-1), `${installDir}/node_modules/kafka-forwarder/dist/cli/main.js`);
  const shebang = readFileSync(repoFile('bin/kafka-forwarder.js'), 'utf8').split('\n')[0];
  for (const flag of args.slice(1, -1)) assert.ok(shebang.includes(flag), `${flag} is the bin's too (${shebang})`);
  const manifest = JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as { exports: Record<string, string> };
  assert.ok(
    JSON.stringify(manifest.exports).includes('./dist/'),
    'package.json exports the built dist/ that the entry point lies in',
  );

  // The default configuration is the one the image copies and CMD names.
  const copies = instructions(runtime, 'COPY').map((copy) => copy.args ?? []);
  assert.ok(
    copies.some((copy) => copy[0] === 'deploy/container/kafka-forwarder.yaml' && copy[1] === IMAGE_CONFIG),
    'the default configuration is copied to the path CMD names',
  );
  assert.deepEqual(single(runtime, 'CMD').args, ['serve', '--config', IMAGE_CONFIG]);
  assert.equal(single(runtime, 'CMD').jsonForm, true);

  // A numeric non-root user, the one the Kubernetes manifests run as.
  assert.equal(single(runtime, 'USER').args?.[0], IMAGE_USER);

  // The spool on the volume; the listeners exposed.
  const volume = single(runtime, 'VOLUME');
  assert.ok(
    (volume.args ?? []).some((dir) => isInside(config.spool.path, dir)),
    `spool.path ${config.spool.path} is on a VOLUME`,
  );
  assert.deepEqual(
    new Set(single(runtime, 'EXPOSE').args),
    new Set([String(config.server.port), String(config.admin.port)]),
  );

  // HEALTHCHECK asks the admin listener for /healthz.
  const healthcheck = single(runtime, 'HEALTHCHECK');
  assert.ok(
    healthcheck.original.includes(`http://127.0.0.1:${config.admin.port}/healthz`),
    `HEALTHCHECK on the admin port ${config.admin.port}: ${healthcheck.original}`,
  );
  assert.equal(single(runtime, 'STOPSIGNAL').args?.[0], 'SIGTERM');
});

test('compose.yaml loads as `docker compose config` loads it, and agrees with its configuration and the image', async () => {
  const { stdout } = await runChecked(await tool('deploy-lint'), ['compose', repoFile('compose.yaml')]);
  const project = JSON.parse(stdout) as {
    services: Record<
      string,
      { image?: string; stop_grace_period?: string; volumes?: { source: string; target: string }[] }
    >;
  };
  const forwarder = project.services.forwarder;
  assert.ok(forwarder !== undefined);

  // Its configuration, with the real secrets the kafka-secrets service makes: the script run
  // here with this machine's keytool, as the apache/kafka image runs it.
  const temp = await tempDir('compose-secrets');
  try {
    const secrets = path.join(temp.dir, 'secrets');
    await runChecked('sh', [repoFile('deploy/container/compose/kafka.sh'), 'secrets', secrets]);
    // The broker's certificate chains to the CA the forwarder trusts, for the name it dials.
    const certificate = await runChecked('openssl', [
      'pkcs12',
      '-in',
      path.join(secrets, 'kafka.p12'),
      '-passin',
      'pass:demo-store-password',
      '-nokeys',
      '-clcerts',
    ]);
    const leaf = path.join(temp.dir, 'kafka.pem');
    await writeFile(leaf, certificate.stdout);
    await runChecked('openssl', [
      'verify',
      '-CAfile',
      path.join(secrets, 'kafka-ca.pem'),
      '-verify_hostname',
      'kafka',
      leaf,
    ]);

    const configMount = forwarder.volumes?.find((volume) => volume.target === IMAGE_CONFIG);
    assert.ok(configMount !== undefined, 'compose mounts its configuration over the image’s');
    const configText = readFileSync(repoFile(configMount.source), 'utf8');
    const config = await checkShippedConfig(configText, {
      env: {},
      secretDir: '/run/secrets',
      realSecrets: secrets,
    });

    const graceMs = Number(/^(\d+)s$/.exec(forwarder.stop_grace_period ?? '')?.[1]) * 1000;
    assert.ok(
      graceMs > config.server.shutdownTimeoutMs,
      `stop_grace_period (${graceMs} ms) > server.shutdown_timeout_ms (${config.server.shutdownTimeoutMs} ms)`,
    );
    const spool = forwarder.volumes?.find((volume) => isInside(config.spool.path, volume.target));
    assert.ok(spool !== undefined, `spool.path ${config.spool.path} is on a named volume`);
    const secretsMount = forwarder.volumes?.find((volume) => volume.target === '/run/secrets');
    assert.equal(secretsMount?.source, 'secrets', 'the volume the kafka-secrets service writes');
  } finally {
    await temp.remove();
  }

  // The demo broker is the Kafka version the tests run against.
  const pom = readFileSync(repoFile('tools/kafka/pom.xml'), 'utf8');
  const kafkaVersion = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  assert.ok(kafkaVersion !== undefined, 'tools/kafka/pom.xml names the Kafka version');
  assert.equal(project.services.kafka.image, `apache/kafka:${kafkaVersion}`);
});
