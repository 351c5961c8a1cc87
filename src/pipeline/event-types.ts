// The event types mParticle's Kafka integration forwards ("Supported events" in
// kafka-integration.md), and the reason an event is held back when a connection setting or
// that list excludes it.
import type { ConnectionSettings } from '../config/index.ts';
import { isSupportedEventType } from '../format/index.ts';

/** Why an event was not forwarded; the values are stable metric label values. */
export type FilterReason =
  | 'network_performance_disabled'
  | 'user_attribute_change_disabled'
  | 'user_identity_change_disabled'
  | 'unsupported_event_type';

export const FILTER_REASONS: readonly FilterReason[] = [
  'network_performance_disabled',
  'user_attribute_change_disabled',
  'user_identity_change_disabled',
  'unsupported_event_type',
];

/**
 * Why an event of this type is held back under these settings, or `undefined` when it is
 * forwarded. Types outside the supported list (pre_attribution, push_reaction, unknown, a
 * missing type, anything else) are never forwarded, whatever the settings.
 */
export function filterReasonFor(eventType: unknown, settings: ConnectionSettings): FilterReason | undefined {
  if (!isSupportedEventType(eventType)) return 'unsupported_event_type';
  switch (eventType) {
    case 'network_performance':
      return settings.sendNetworkPerformanceEvents ? undefined : 'network_performance_disabled';
    case 'user_attribute_change':
      return settings.includeUserAttributeChangeEvents ? undefined : 'user_attribute_change_disabled';
    case 'user_identity_change':
      return settings.includeUserIdentityChangeEvents ? undefined : 'user_identity_change_disabled';
    default:
      return undefined;
  }
}
