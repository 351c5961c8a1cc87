// Where the test/demo Kafka lives on disk. Everything is derived from the repository root so
// the tools work from any working directory (npm scripts, node --test children, CI clones).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const KAFKA_VERSION = '4.3.1';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const toolsDir = path.join(repoRoot, 'tools', 'kafka');
export const pomPath = path.join(toolsDir, 'pom.xml');
export const watchdogPath = path.join(toolsDir, 'watchdog.sh');
export const log4jConfigPath = path.join(toolsDir, 'log4j2.properties');
export const cacheDir = path.join(repoRoot, '.cache', 'kafka', KAFKA_VERSION);
export const libsDir = path.join(cacheDir, 'libs');
/** Marker written after a complete download, so a half-finished copy is never mistaken for a cache. */
export const libsCompleteMarker = path.join(cacheDir, 'libs.complete');
/** One small file per running cluster, pointing at its descriptor, so `kafka:down` can find strays. */
export const registryDir = path.join(repoRoot, '.cache', 'kafka', 'running');
/** The cluster `npm run kafka:up` starts for people. */
export const devClusterDir = path.join(repoRoot, 'var', 'kafka');
/** The Java class path: every jar Maven copied. */
export const classPath = path.join(libsDir, '*');
