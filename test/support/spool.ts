// Opens a spool for a test or a benchmark with the product's defaults (the settings schema's, the
// one place defaults live) for whatever the caller leaves out.
import { defaultSpoolConfig } from '../../src/config/index.ts';
import { openSpool, type Spool, type SpoolOptions } from '../../src/spool/index.ts';

export type TestSpoolOptions = Partial<SpoolOptions> & Pick<SpoolOptions, 'dir' | 'maxBytes'>;

export function openTestSpool(options: TestSpoolOptions): Promise<Spool> {
  return openSpool({
    highWaterRatio: defaultSpoolConfig.highWaterRatio,
    dedupWindowMs: defaultSpoolConfig.dedupWindowMs,
    // The disk reserve is the product's safety margin for a real disk; tests of it set their own.
    minFreeDiskBytes: 0,
    ...options,
  });
}
