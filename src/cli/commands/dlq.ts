// `dlq list|show|replay`: the dead-letter store. Replay puts a dead letter back in its connection's
// queue (same batch id, new position) for the server to send again when it next runs.
import { intakeConnectionOf } from '../../main.ts';
import { openKafkaDeadLetters } from '../../spool/index.ts';
import type { DeadLetterSummary, Spool } from '../../spool/index.ts';
import { parseJson } from '../../format/index.ts';
import {
  configOption,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  integerValue,
  stringValue,
  UsageError,
  type CommandDefinition,
  type ParsedArgs,
} from '../index.ts';
import { loadCliConfig } from '../index.ts';
import { eprintln, formatBytes, formatTable, println, type CliIo } from '../index.ts';
import { createProgressBar } from '../index.ts';
import { prettyJson } from '../index.ts';
import { busyMessage, openSpoolForCli } from '../index.ts';

const connectionOption = { flag: '--connection NAME', help: 'only the dead letters of this connection' };

/** What the commands need of a dead-letter store: the local spool's, or cluster mode's topic. */
type DeadLetterStore = Pick<Spool, 'listDeadLetters' | 'showDeadLetter' | 'replayDeadLetter'>;

/** Runs `action` with the dead letters open, or explains why they cannot be opened. */
async function withSpool(
  args: ParsedArgs,
  io: CliIo,
  action: (spool: DeadLetterStore, kind: 'local' | 'kafka') => Promise<number>,
): Promise<number> {
  const loaded = await loadCliConfig(args, io, { secrets: 'intake' });
  if (typeof loaded === 'number') return loaded;
  const intake = loaded.config.spool.kafka;
  if (loaded.config.spool.kind === 'kafka' && intake !== undefined) {
    // Cluster mode: the dead-letter topic, read and written while the servers run.
    const store = openKafkaDeadLetters({
      connection: intakeConnectionOf(intake),
      topic: intake.topic,
      deadLetterTopic: intake.deadLetterTopic,
    });
    try {
      return await action(store, 'kafka');
    } finally {
      await store.close();
    }
  }
  const access = await openSpoolForCli(loaded.config);
  if (access.kind === 'missing') {
    println(io, `No spool at ${access.path} yet: no dead letters.`);
    return EXIT_OK;
  }
  if (access.kind === 'busy') {
    eprintln(io, `kafka-forwarder: ${busyMessage(access.path)}.`);
    return EXIT_FAILED;
  }
  try {
    return await action(access.spool, 'local');
  } finally {
    await access.spool.close();
  }
}

async function allDeadLetters(spool: DeadLetterStore, connection: string | undefined): Promise<DeadLetterSummary[]> {
  const all: DeadLetterSummary[] = [];
  for (;;) {
    const page = await spool.listDeadLetters(connection, 500, all.at(-1)?.id);
    all.push(...page);
    if (page.length < 500) return all;
  }
}

function parseId(text: string): number {
  const id = Number(text);
  if (!Number.isInteger(id) || id < 1) throw new UsageError(`a dead-letter id is a positive integer, not "${text}"`);
  return id;
}

export const dlqListCommand: CommandDefinition = {
  path: ['dlq', 'list'],
  summary: 'List dead letters: records Kafka refused for good (too large, invalid) or that were set aside.',
  usage: '[--config FILE] [--connection NAME] [--limit N]',
  options: { ...configOption.options, connection: { type: 'string' }, limit: { type: 'string' } },
  optionHelp: [configOption.help, connectionOption, { flag: '--limit N', help: 'show at most N (default 100)' }],
  positionals: [0, 0],
  async run(args, io) {
    const limit = integerValue(args, 'limit', 100);
    return withSpool(args, io, async (spool) => {
      // One more than shown says whether there are more.
      const letters = await spool.listDeadLetters(stringValue(args, 'connection'), limit + 1);
      const more = letters.length > limit;
      letters.splice(limit);
      if (letters.length === 0) {
        println(io, 'No dead letters.');
        return EXIT_OK;
      }
      const rows = letters.map((letter) => [
        String(letter.id),
        letter.destination,
        letter.batchId.toString(),
        new Date(letter.deadAtMs).toISOString(),
        formatBytes(letter.bytes),
        letter.reason,
      ]);
      for (const line of formatTable(['id', 'connection', 'batch id', 'dead since', 'size', 'reason'], rows)) {
        println(io, line);
      }
      if (more) println(io, `(the first ${letters.length} shown; there are more: use --limit)`);
      return EXIT_OK;
    });
  },
};

export const dlqShowCommand: CommandDefinition = {
  path: ['dlq', 'show'],
  summary: 'Show one dead letter: why it failed, and its payload pretty-printed.',
  usage: '<id> [--config FILE]',
  options: { ...configOption.options },
  optionHelp: [configOption.help],
  positionals: [1, 1],
  async run(args, io) {
    const id = parseId(args.positionals[0]);
    return withSpool(args, io, async (spool) => {
      const letter = await spool.showDeadLetter(id);
      if (letter === null) {
        eprintln(io, `kafka-forwarder: no dead letter ${id}; see kafka-forwarder dlq list`);
        return EXIT_FAILED;
      }
      println(io, `dead letter ${letter.id}`);
      println(io, `  connection:  ${letter.destination}`);
      println(io, `  batch id:    ${letter.batchId}`);
      println(io, `  received:    ${new Date(letter.receivedAtMs).toISOString()}`);
      println(io, `  dead since:  ${new Date(letter.deadAtMs).toISOString()}`);
      println(io, `  reason:      ${letter.reason}`);
      println(io, `  size:        ${formatBytes(letter.bytes)}`);
      println(io, '  payload:');
      let body: string;
      try {
        body = prettyJson(parseJson(letter.payload));
      } catch {
        body = letter.payload.toString('utf8');
      }
      for (const line of body.split('\n')) println(io, `    ${line}`);
      return EXIT_OK;
    });
  },
};

export const dlqReplayCommand: CommandDefinition = {
  path: ['dlq', 'replay'],
  summary: "Put dead letters back in their connection's queue, to be sent again when the server runs.",
  usage: '<id> | --all [--connection NAME] [--config FILE]',
  description:
    'With the local spool, run it while the server is stopped (the server holds the spool); the server sends the ' +
    'replayed records on start. In cluster mode (spool.kind: kafka) it writes them back to the intake topic, ' +
    'bound to their connection alone and with their batch id, and the running instances forward them.',
  options: { ...configOption.options, all: { type: 'boolean' }, connection: { type: 'string' } },
  optionHelp: [configOption.help, { flag: '--all', help: 'replay every dead letter' }, connectionOption],
  positionals: [0, 1],
  async run(args, io) {
    const all = args.values.all === true;
    if (all === (args.positionals.length === 1)) {
      eprintln(io, 'kafka-forwarder: give either a dead-letter id or --all');
      return EXIT_USAGE;
    }
    const single = all ? undefined : parseId(args.positionals[0]);
    return withSpool(args, io, async (spool, kind) => {
      const ids =
        single === undefined
          ? (await allDeadLetters(spool, stringValue(args, 'connection'))).map((letter) => letter.id)
          : [single];
      if (ids.length === 0) {
        println(io, 'No dead letters to replay.');
        return EXIT_OK;
      }
      const bar = createProgressBar(io, 'replaying', ids.length);
      const missing: number[] = [];
      for (const id of ids) {
        if ((await spool.replayDeadLetter(id)) === null) missing.push(id);
        bar.tick();
      }
      bar.done();
      const replayed = ids.length - missing.length;
      println(
        io,
        kind === 'kafka'
          ? `Replayed ${replayed} dead letter(s) to the intake topic; the instances forward them now.`
          : `Replayed ${replayed} dead letter(s); the server sends them when it next runs.`,
      );
      if (missing.length > 0) {
        eprintln(io, `kafka-forwarder: no dead letter ${missing.join(', ')}`);
        return EXIT_FAILED;
      }
      return EXIT_OK;
    });
  },
};
