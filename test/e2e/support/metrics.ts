// Reads a running forwarder's /metrics: single samples and histogram quantiles.
import { request } from 'node:http';

export function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.end();
  });
}

/** The sum of every sample of `name` whose labels include all of `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (!Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`))) continue;
    total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

/** The q-quantile (0..1) of a Prometheus histogram, interpolated within its bucket, in the metric's unit. */
export function histogramQuantile(
  text: string,
  name: string,
  q: number,
  labels: Record<string, string> = {},
): number | undefined {
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket`)) continue;
    const match = /^[\w:]+_bucket\{([^}]*)\}\s+(\S+)/.exec(line);
    if (match === null) continue;
    if (!Object.entries(labels).every(([key, value]) => match[1].includes(`${key}="${value}"`))) continue;
    const le = /le="([^"]+)"/.exec(match[1])?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(match[2]));
  }
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let previousBound = 0;
  let previousCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return previousBound;
      const inBucket = count - previousCount;
      return inBucket === 0 ? bound : previousBound + ((bound - previousBound) * (rank - previousCount)) / inBucket;
    }
    previousBound = bound;
    previousCount = count;
  }
  return previousBound;
}

/** Polls /metrics until `predicate` holds for `name` (summed over `labels`), or the timeout passes. */
export async function waitForMetric(
  port: number,
  name: string,
  predicate: (value: number | undefined) => boolean,
  options: { labels?: Record<string, string>; timeoutMs: number },
): Promise<number | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  let value: number | undefined;
  for (;;) {
    value = metricValue((await httpGet(port, '/metrics')).body, name, options.labels);
    if (predicate(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
