// Stage 6: the output's topic exists (or a near name is suggested), every partition has a leader
// and enough in-sync replicas for acks=all, its max.message.bytes fits ours, and the broker grants
// an idempotent producer id (with --write-test, one marked record is written).
import { levenshtein } from '../../../config/index.ts';
import { classifyKafkaError } from '../error-table.ts';
import { createProducer, kafkaConnection, lastConnectionError, type ClusterMetadata } from '../kafka-client.ts';
import type { DiagnosisContext } from './context.ts';
import type { Finding, StageResult, StageStatus } from './types.ts';

type Admin = ReturnType<DiagnosisContext['admin']>;

export async function topicStage(context: DiagnosisContext): Promise<StageResult> {
  const { topic } = context.options;
  const admin = context.admin();
  let metadata: ClusterMetadata;
  try {
    metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
  } catch (error) {
    const why = classifyKafkaError(error, [lastConnectionError(admin)]);
    if (why.code === 'UNKNOWN_TOPIC') return missingTopic(context, admin);
    if (why.code === 'NOT_AUTHORIZED') {
      return {
        stage: 'topic',
        status: 'fail',
        summary: `not authorised to describe topic "${topic}" (or it does not exist and the user may not know)`,
        details: [],
        fix: aclFix(context.options.security.username, topic),
      };
    }
    return { stage: 'topic', status: 'fail', summary: `${why.reason} (${why.matched})`, details: [], fix: why.fix };
  }
  const description = metadata.topics.get(topic);
  if (description === undefined) return missingTopic(context, admin);

  const details: string[] = [];
  const partitions = description.partitions.map((partition, index) => ({ index, ...partition }));
  const config = await topicConfig(context, admin);
  const minIsr = config.values.get('min.insync.replicas');
  const minInsync = minIsr === undefined ? undefined : Number(minIsr);
  for (const partition of partitions) {
    details.push(
      `partition ${partition.index}: leader ${partition.leader < 0 ? 'NONE' : partition.leader}, replicas [${partition.replicas.join(', ')}], in-sync [${partition.isr.join(', ')}]` +
        (partition.offlineReplicas.length > 0 ? `, offline [${partition.offlineReplicas.join(', ')}]` : ''),
    );
  }
  if (config.error !== undefined) details.push(config.error);

  const leaderless = partitions.filter((partition) => partition.leader < 0);
  if (leaderless.length > 0) {
    return {
      stage: 'topic',
      status: 'fail',
      summary: `partition(s) ${leaderless.map((p) => p.index).join(', ')} of "${topic}" have no leader`,
      details,
      fix: `start or repair the brokers holding their replicas (${[...new Set(leaderless.flatMap((p) => p.replicas))].join(', ')})`,
    };
  }
  const replicationFactor = Math.min(...partitions.map((partition) => partition.replicas.length));
  if (minInsync !== undefined && replicationFactor < minInsync) {
    return {
      stage: 'topic',
      status: 'fail',
      summary: `replication factor ${replicationFactor} is below min.insync.replicas=${minInsync}: acks=all writes can never succeed`,
      details,
      fix:
        `lower it (kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config ` +
        `min.insync.replicas=${replicationFactor}) or raise the topic's replication factor`,
    };
  }
  const shortOfIsr = minInsync === undefined ? [] : partitions.filter((p) => p.isr.length < minInsync);
  if (shortOfIsr.length > 0) {
    const lagging = [...new Set(shortOfIsr.flatMap((p) => p.replicas.filter((r) => !p.isr.includes(r))))];
    return {
      stage: 'topic',
      status: 'fail',
      summary:
        `partition(s) ${shortOfIsr.map((p) => p.index).join(', ')} have fewer in-sync replicas than ` +
        `min.insync.replicas=${minInsync}: writes (acks=all) fail with NOT_ENOUGH_REPLICAS`,
      details,
      fix: `bring the out-of-sync replicas back (broker(s) ${lagging.join(', ')}); the forwarder keeps batches spooled meanwhile`,
    };
  }

  const notes: string[] = [];
  let status: StageStatus = 'pass';
  let fix: string | undefined;
  const topicMaxBytes = config.values.get('max.message.bytes');
  if (
    topicMaxBytes !== undefined &&
    context.options.maxMessageBytes !== undefined &&
    Number(topicMaxBytes) < context.options.maxMessageBytes
  ) {
    status = 'warn';
    details.push(
      `the topic's max.message.bytes (${topicMaxBytes}) is below the output's max_message_bytes (${context.options.maxMessageBytes})`,
    );
    fix = `set max_message_bytes: ${topicMaxBytes} on the output, or raise max.message.bytes on the topic`;
  }
  if (minInsync === undefined) {
    status = 'warn';
    fix ??= 'grant DESCRIBE_CONFIGS on the topic to let this check read min.insync.replicas';
    notes.push('min.insync.replicas unknown');
  } else {
    const headroom = Math.min(...partitions.map((p) => p.isr.length)) - minInsync;
    notes.push(
      `in-sync replicas ≥ min.insync.replicas=${minInsync} on every partition` +
        (headroom === 0 && replicationFactor > minInsync ? ' (no headroom: one more replica lost stops writes)' : ''),
    );
  }

  const write = await writeCheck(context);
  details.push(...write.details);
  if (write.failure !== undefined) {
    return { stage: 'topic', status: 'fail', summary: write.failure.summary, details, fix: write.failure.fix };
  }
  const leaders = [...new Set(partitions.map((p) => p.leader))].sort((a, b) => a - b);
  return {
    stage: 'topic',
    status,
    summary:
      `"${topic}": ${partitions.length} partition(s), replication factor ${replicationFactor}, ` +
      `leaders on broker(s) ${leaders.join(', ')}; ${notes.join('; ')}; ${write.summary}`,
    details,
    ...(fix !== undefined && { fix }),
  };
}

async function missingTopic(context: DiagnosisContext, admin: Admin): Promise<StageResult> {
  const { topic } = context.options;
  const existing = await admin.listTopics().catch(() => undefined);
  const similar = existing === undefined ? [] : similarNames(topic, existing);
  const details =
    existing === undefined
      ? ['(could not list the topics to suggest a near name)']
      : similar.length > 0
        ? [`similar topics on the cluster: ${similar.join(', ')}`]
        : [`the cluster has ${existing.length} other topic(s), none with a similar name`];
  return {
    stage: 'topic',
    status: 'fail',
    summary: `topic "${topic}" does not exist (the forwarder never creates topics)`,
    details,
    fix:
      similar.length > 0
        ? `did you mean "${similar[0]}"? Fix topic in the output, or create "${topic}"`
        : `create it, e.g. kafka-topics.sh --create --topic ${topic} --partitions 6 --replication-factor 3, or fix topic in the output`,
  };
}

async function topicConfig(
  context: DiagnosisContext,
  admin: Admin,
): Promise<{ values: Map<string, string>; error?: string }> {
  try {
    const described = await admin.describeConfigs({
      resources: [
        {
          resourceType: 2, // TOPIC
          resourceName: context.options.topic,
          configurationKeys: ['min.insync.replicas', 'max.message.bytes'],
        },
      ],
    });
    const values = new Map<string, string>();
    for (const entry of described[0]?.configs ?? [])
      if (typeof entry.value === 'string') values.set(entry.name, entry.value);
    return { values };
  } catch (error) {
    const why = classifyKafkaError(error);
    return {
      values: new Map(),
      error: `cannot read the topic's configuration: ${why.code === 'NOT_AUTHORIZED' ? 'DESCRIBE_CONFIGS not granted' : why.reason}`,
    };
  }
}

/** Asks for a producer id (what every idempotent send needs), and with writeTest sends one record. */
async function writeCheck(context: DiagnosisContext): Promise<{
  summary: string;
  details: string[];
  failure?: Finding;
}> {
  const producer = createProducer(
    kafkaConnection({ ...context.options.security, bootstrapServers: context.bootstrap }),
    {
      clientId: context.clientId,
      retries: 2,
      retryDelayMs: 250,
      connectTimeoutMs: context.timeoutMs,
      requestTimeoutMs: context.timeoutMs,
    },
  );
  context.closeAtEnd(() => producer.close(true));
  const fail = (error: unknown, what: string) => {
    const why = classifyKafkaError(error, [lastConnectionError(producer)]);
    return {
      summary: `${what}: ${why.reason} (${why.matched})`,
      details: [],
      failure: {
        summary: `${what}: ${why.reason} (${why.matched})`,
        fix: why.code === 'NOT_AUTHORIZED' ? aclFix(context.options.security.username, context.options.topic) : why.fix,
      },
    };
  };
  try {
    await producer.initIdempotentProducer({});
  } catch (error) {
    return fail(error, 'the broker refused an idempotent producer id');
  }
  if (context.options.writeTest !== true) {
    return {
      summary: 'producer id granted',
      details: ['topic WRITE permission is proven by the first send; add --write-test to send one test record now'],
    };
  }
  try {
    const result = await producer.send({
      messages: [
        {
          topic: context.options.topic,
          key: 'kafka-forwarder-test-connection',
          value: JSON.stringify({ kafka_forwarder_test_connection: true, at: new Date().toISOString() }),
          headers: { 'kafka-forwarder': 'test-connection' },
        },
      ],
    });
    const written = result.offsets?.[0];
    return {
      summary: 'test record written',
      details: [
        written === undefined
          ? 'test record written'
          : `test record written to partition ${written.partition} at offset ${written.offset}`,
      ],
    };
  } catch (error) {
    return fail(error, 'the test record was not written');
  }
}

function aclFix(username: string | undefined, topic: string): string {
  const principal = username === undefined ? 'User:<the client certificate subject>' : `User:${username}`;
  return (
    `grant the output's user DESCRIBE and WRITE on the topic, e.g. kafka-acls.sh --add --allow-principal ${principal} ` +
    `--operation Describe --operation Write --topic ${topic}`
  );
}

/** Existing topic names close to `wanted`: same ignoring case and separators, or a few edits away. */
export function similarNames(wanted: string, existing: readonly string[]): string[] {
  const fold = (name: string): string => name.toLowerCase().replace(/[-_.]/g, '');
  const limit = Math.max(2, Math.floor(wanted.length / 4));
  return existing
    .filter((name) => !name.startsWith('__'))
    .map((name) => ({ name, distance: fold(name) === fold(wanted) ? 0 : levenshtein(wanted, name) }))
    .filter((candidate) => candidate.distance <= limit)
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 3)
    .map((candidate) => candidate.name);
}
