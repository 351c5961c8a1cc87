// Every error kafka-forwarder can raise is declared once, here: a stable code, an HTTP status
// (for errors that reach an HTTP client) and a message template. Code elsewhere throws
// `new ForwarderError('CODE', { ...params }, { cause })` and never writes a message inline,
// so that the same failure always reads the same way in logs, API answers and docs.
//
// Each area has its own section; add new codes to the section of the area that raises them.

export interface ErrorDefinition {
  /** HTTP status when the error answers a request; 500 when it never should. */
  readonly status: number;
  /** Message template; `{name}` is replaced by the parameter of that name. */
  readonly message: string;
}

function define<const T extends Record<string, ErrorDefinition>>(table: T): T {
  return table;
}

export const errorRegistry = define({
  // --- events-api: answers to HTTP clients (mParticle's status codes) ---
  AUTH_MISSING: {
    status: 401,
    message: 'Authorization header is missing; send HTTP Basic auth with your API key and secret.',
  },
  AUTH_MALFORMED: { status: 401, message: 'Authorization header is malformed: {reason}.' },
  AUTH_INVALID: { status: 403, message: 'The API key or secret is not valid.' },
  BAD_JSON: { status: 400, message: 'The request body is not valid JSON: {reason}.' },
  BAD_REQUEST: { status: 400, message: '{message}' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than {limit} bytes{detail}.' },
  BATCH_TOO_LARGE: { status: 413, message: '{path} is {size} bytes, more than the {limit}-byte batch limit.' },
  TOO_MANY_BATCHES: { status: 400, message: 'A bulk request holds at most {limit} batches; this one holds {count}.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Content-Type must be application/json, not {contentType}.' },
  UNSUPPORTED_ENCODING: { status: 415, message: 'Content-Encoding must be gzip or identity, not {encoding}.' },
  NOT_FOUND: { status: 404, message: 'No such endpoint: {method} {path}.' },
  ADMIN_ENDPOINT: {
    status: 404,
    message:
      '{path} is served on the admin listener (admin.host and admin.port, 127.0.0.1:9464 by default), not on the ingest port.',
  },
  METHOD_NOT_ALLOWED: { status: 405, message: '{method} is not allowed on {path}.' },
  SERVER_BUSY: {
    status: 429,
    message: 'The server holds as many request bodies as it may ({limit} bytes); retry after {retryAfter} s.',
  },
  SPOOL_FULL: { status: 429, message: 'The spool cannot take more batches now: {reason}; retry after {retryAfter} s.' },
  SPOOL_UNAVAILABLE: { status: 503, message: 'The spool cannot store batches right now: {reason}.' },
  SHUTTING_DOWN: { status: 503, message: 'The server is shutting down; retry against another instance or later.' },

  // --- spool ---
  SPOOL_IO: { status: 503, message: 'Spool I/O failed: {reason}; retry after {retryAfter} s.' },
  SPOOL_CLOSED: { status: 503, message: 'The spool is closed.' },

  // --- dead letters: why a stored batch was set aside (stored as "CODE: message"; never an HTTP answer) ---
  UNPROCESSABLE_BATCH: { status: 500, message: 'the stored batch could not be processed: {reason}' },
  UNREADABLE_BATCH: { status: 500, message: 'the stored batch is not {what}' },
  RECORD_TOO_LARGE: {
    status: 500,
    message:
      '{count} event(s) do not fit a record even alone (largest {largest} bytes; records may hold {limit} bytes under max_message_bytes)',
  },

  // --- config ---
  CONFIG_INVALID: { status: 500, message: 'The configuration in {source} is not valid:\n{problems}' },
  CONFIG_NOT_FOUND: {
    status: 500,
    message: 'No configuration file at {path}; pass --config or set KAFKA_FORWARDER_CONFIG.',
  },
  CONFIG_UNREADABLE: { status: 500, message: 'Cannot read the configuration file {path}: {reason}.' },
});

export type ErrorCode = keyof typeof errorRegistry;
export type ErrorParams = Readonly<Record<string, string | number | bigint | boolean>>;

function render(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export class ForwarderError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly params: ErrorParams;

  constructor(code: ErrorCode, params: ErrorParams = {}, options?: { cause?: unknown }) {
    const definition: ErrorDefinition = errorRegistry[code];
    super(render(definition.message, params), options);
    this.name = 'ForwarderError';
    this.code = code;
    this.status = definition.status;
    this.params = params;
  }
}

export function isForwarderError(error: unknown, code?: ErrorCode): error is ForwarderError {
  return error instanceof ForwarderError && (code === undefined || error.code === code);
}

/** The reason a dead letter is stored with: its code, then the message ("CODE: message"). */
export function deadLetterReason(code: ErrorCode, params: ErrorParams = {}): string {
  return `${code}: ${new ForwarderError(code, params).message}`;
}
