// deploy/kubernetes/: each variant renders with kustomize (what `kubectl apply -k` runs), passes
// kubeconform -strict against the oldest and newest Kubernetes it supports, and agrees with the
// configuration it mounts: ports, probes, the shutdown deadline, the spool and the secret files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { tempDir } from '../support/temp-dir.ts';
import {
  KUBERNETES_VERSIONS,
  SCHEMAS,
  checkShippedConfig,
  filePaths,
  isInside,
  parseYaml,
  repoFile,
  runChecked,
  tool,
} from './support.ts';

// The parts of the manifests these tests read; kubeconform checks the rest against the schemas.
interface Mount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}
interface Container {
  args: string[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: { httpGet: unknown };
  livenessProbe: { httpGet: unknown };
  startupProbe: { httpGet: unknown };
  lifecycle: { preStop: { sleep: { seconds: number } } };
  securityContext: { readOnlyRootFilesystem?: boolean };
  volumeMounts: Mount[];
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  securityContext: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
}
interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> } & Record<string, string>;
    ports: { targetPort: string }[];
    template: { spec: PodSpec };
    volumeClaimTemplates?: { metadata: { name: string } }[];
    persistentVolumeClaimRetentionPolicy?: { whenDeleted: string };
    strategy?: { rollingUpdate: { maxUnavailable: number } };
  };
}

const SECRET_DIR = '/run/secrets/kafka-forwarder';

async function render(variant: string): Promise<{ text: string; resources: Resource[] }> {
  const built = await runChecked(await tool('kustomize'), ['build', repoFile(`deploy/kubernetes/${variant}`)]);
  const resources = parseAllDocuments(built.stdout).map((document) => document.toJS() as Resource);
  return { text: built.stdout, resources };
}

async function kubeconform(manifests: string, version: string): Promise<{ code: number; output: string }> {
  const temp = await tempDir('kubeconform');
  try {
    const file = path.join(temp.dir, 'manifests.yaml');
    await writeFile(file, manifests);
    const args = [
      '-strict',
      '-summary',
      '-kubernetes-version',
      version,
      '-schema-location',
      `${SCHEMAS}/{{.NormalizedKubernetesVersion}}-local-strict/{{.ResourceKind}}{{.KindSuffix}}.json`,
      file,
    ];
    try {
      const result = await runChecked(await tool('kubeconform'), args);
      return { code: 0, output: result.stdout + result.stderr };
    } catch (error) {
      return { code: 1, output: (error as Error).message };
    }
  } finally {
    await temp.remove();
  }
}

function find(resources: Resource[], kind: string, name?: string): Resource {
  const found = resources.filter(
    (resource) => resource.kind === kind && (name === undefined || resource.metadata.name === name),
  );
  assert.equal(found.length, 1, `one ${kind}${name === undefined ? '' : ` ${name}`}`);
  return found[0];
}

function present<T>(value: T | undefined, what: string): T {
  assert.ok(value !== undefined, `${what} is there`);
  return value;
}

const VARIANTS = [
  { name: 'local-spool', workload: 'StatefulSet', spoolKind: 'local' },
  { name: 'cluster-mode', workload: 'Deployment', spoolKind: 'kafka' },
] as const;

for (const variant of VARIANTS) {
  test(`${variant.name}: kustomize renders it and kubeconform -strict accepts it on Kubernetes ${KUBERNETES_VERSIONS.join(' and ')}`, async () => {
    const { text, resources } = await render(variant.name);
    assert.ok(resources.length >= 3, 'a ConfigMap, Services and the workload');
    for (const version of KUBERNETES_VERSIONS) {
      const result = await kubeconform(text, version);
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, new RegExp(`Valid: ${resources.length}, Invalid: 0, Errors: 0, Skipped: 0`));
    }
  });

  test(`${variant.name}: the workload and the configuration it mounts agree`, async () => {
    const { resources } = await render(variant.name);
    const workload = find(resources, variant.workload, 'kafka-forwarder');
    const pod = workload.spec.template.spec;
    assert.equal(pod.containers.length, 1);
    const container = pod.containers[0];

    // The configuration is the ConfigMap's, at the path the container is told to read.
    const configVolume = present(
      pod.volumes.find((volume) => volume.configMap !== undefined),
      'a ConfigMap volume',
    );
    const configMap = find(resources, 'ConfigMap', present(configVolume.configMap, 'configMap').name);
    const data = present(configMap.data, 'the ConfigMap’s data');
    const [fileName] = Object.keys(data);
    const configMount = present(
      container.volumeMounts.find((mount) => mount.name === configVolume.name),
      'the ConfigMap mounted',
    );
    assert.deepEqual(container.args, ['serve', '--config', `${configMount.mountPath}/${fileName}`]);
    const configText = data[fileName];
    const config = await checkShippedConfig(configText, { env: {}, secretDir: SECRET_DIR });
    assert.equal(config.spool.kind, variant.spoolKind);

    // Ports: the container's named ports are the configured listeners, on every interface of the pod.
    const ports = new Map(container.ports.map((port) => [port.name, port.containerPort]));
    assert.equal(ports.get('http'), config.server.port);
    assert.equal(ports.get('admin'), config.admin.port);
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.admin.host, '0.0.0.0', 'the kubelet probes the pod IP');

    // Probes on the admin listener: readiness is /readyz, liveness (and start-up) /healthz.
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'admin' });
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'admin' });
    assert.deepEqual(container.startupProbe.httpGet, { path: '/healthz', port: 'admin' });

    // SIGKILL only after the preStop pause and the whole drain.
    const preStopMs = container.lifecycle.preStop.sleep.seconds * 1000;
    const graceMs = pod.terminationGracePeriodSeconds * 1000;
    assert.ok(
      graceMs > preStopMs + config.server.shutdownTimeoutMs,
      `terminationGracePeriodSeconds (${graceMs} ms) > preStop (${preStopMs} ms) + server.shutdown_timeout_ms (${config.server.shutdownTimeoutMs} ms)`,
    );

    // Secrets: every *_file lies in the mounted Secret; nothing secret is in the ConfigMap.
    const secretVolume = present(
      pod.volumes.find((volume) => volume.secret !== undefined),
      'a Secret volume',
    );
    const secretMount = present(
      container.volumeMounts.find((mount) => mount.name === secretVolume.name),
      'the Secret mounted',
    );
    assert.equal(secretMount.mountPath, SECRET_DIR);
    assert.equal(secretMount.readOnly, true);
    const files = filePaths(parseYaml(configText));
    assert.ok(files.length >= 2, 'the API secret and the Kafka password are files');
    for (const { key, path: file } of files) assert.ok(isInside(file, SECRET_DIR), `${key}: ${file}`);
    assert.doesNotMatch(configText, /^\s*(api_secret|password|sasl_password):/m, 'no secret value inline');

    // The image's user, not root; nothing written outside the volumes.
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, 1000, 'the Dockerfile USER');
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);

    // Every Service selects the pods and targets a port the container has.
    for (const service of resources.filter((resource) => resource.kind === 'Service')) {
      assert.deepEqual(
        service.spec.selector,
        workload.spec.selector.matchLabels,
        `${service.metadata.name} selects the pods`,
      );
      for (const port of service.spec.ports)
        assert.ok(ports.has(port.targetPort), `${service.metadata.name} → ${port.targetPort}`);
    }

    if (variant.workload === 'StatefulSet') {
      // The spool on the volume claim, which outlives the pod.
      const [claim] = present(workload.spec.volumeClaimTemplates, 'a volume claim template');
      const spoolMount = present(
        container.volumeMounts.find((mount) => mount.name === claim.metadata.name),
        'the claim mounted',
      );
      assert.ok(isInside(config.spool.path, spoolMount.mountPath), `spool.path ${config.spool.path} on the claim`);
      assert.equal(workload.spec.replicas, 1, 'one spool, one pod');
      assert.equal(workload.spec.persistentVolumeClaimRetentionPolicy?.whenDeleted, 'Retain');
    } else {
      // Cluster mode keeps nothing on disk; every pod can own an intake partition.
      assert.equal(workload.spec.volumeClaimTemplates, undefined);
      const intake = config.spool.kafka;
      assert.ok(intake !== undefined, 'spool.kafka is set');
      const replicas = present(workload.spec.replicas, 'replicas');
      assert.ok(replicas <= intake.partitions, 'replicas ≤ spool.kafka.partitions');
      assert.equal(workload.spec.strategy?.rollingUpdate.maxUnavailable, 0);
    }
  });
}

test('kubeconform -strict refuses a misspelt field, so the check above can fail', async () => {
  const { text } = await render('local-spool');
  assert.match(text, /terminationGracePeriodSeconds:/);
  const result = await kubeconform(
    text.replace('terminationGracePeriodSeconds:', 'terminationGracePeriodSecond:'),
    KUBERNETES_VERSIONS[0],
  );
  assert.equal(result.code, 1);
  assert.match(result.output, /terminationGracePeriodSecond/);
});
