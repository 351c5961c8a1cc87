// Errors of the local Kafka that tests, benchmarks and the demo run: tooling, not the product, so
// they stay out of the product's error registry.
export class DevKafkaError extends Error {
  readonly code = 'DEV_KAFKA';

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Local Kafka: ${reason}`, options);
    this.name = 'DevKafkaError';
  }
}
