// What a diagnosis reports: one result per stage, in the order the stages run.
import type { KafkaSecuritySettings } from '../kafka-client.ts';

export type StageName = 'dns' | 'tcp' | 'tls' | 'sasl' | 'metadata' | 'topic';
export type StageStatus = 'pass' | 'warn' | 'fail' | 'skip';

export const STAGES: readonly { name: StageName; label: string }[] = [
  { name: 'dns', label: 'DNS' },
  { name: 'tcp', label: 'TCP' },
  { name: 'tls', label: 'TLS' },
  { name: 'sasl', label: 'SASL' },
  { name: 'metadata', label: 'Metadata' },
  { name: 'topic', label: 'Topic' },
];

export interface StageResult {
  stage: StageName;
  status: StageStatus;
  /** One line: what was found. */
  summary: string;
  /** Further facts, one per line (per broker, per partition…). */
  details: string[];
  /** What to change, when the stage failed or warned. */
  fix?: string;
}

export interface DiagnoseOptions {
  /** The output's connection settings, bootstrap servers included. */
  security: KafkaSecuritySettings;
  topic: string;
  clientId?: string;
  /** Limit for each connection attempt and request (ms). Default 10 s. */
  timeoutMs?: number;
  /** The output's max_message_bytes, compared with the topic's max.message.bytes. */
  maxMessageBytes?: number;
  /** Also produce one marked test record to the topic (off by default: consumers would see it). */
  writeTest?: boolean;
  /** Called as each stage finishes, to print progress. */
  onStage?: (result: StageResult) => void;
}

export interface Diagnosis {
  ok: boolean;
  stages: StageResult[];
  /** The stage that failed, if any. */
  failed?: StageName;
}

export interface HostPort {
  host: string;
  port: number;
  /** As written: host:port ([v6]:port). */
  text: string;
}

/** What went wrong at a layer, and what to change. */
export interface Finding {
  summary: string;
  fix: string;
}
