// The public face of telemetry/: what other folders of src/ may import from it.
export { createLogger } from './logger.ts';
export type { Logger } from './logger.ts';
export { Metrics } from './metrics.ts';
export { BUILD_INFO } from './build-info.ts';
export type { BuildInfo } from './build-info.ts';
export { ADMIN_PATHS, createAdminServer } from './admin-server.ts';
export type { AdminServer } from './admin-server.ts';
export { listenOn, sendJson } from './http.ts';
