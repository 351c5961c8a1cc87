// HTTP Basic authentication with an input's API key and secret, as mParticle's Events API does it.
// 401 when the header is missing or malformed, 403 when the key or secret is wrong.
// Every configured credential is compared on every request, with constant-time comparisons of
// fixed-length digests, so the time taken says nothing about which part was wrong.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ForwarderError } from '../../errors.ts';

export interface InputCredentials {
  readonly input: string;
  readonly credentials: readonly { readonly apiKey: string; readonly apiSecret: string }[];
}

interface CredentialDigest {
  readonly input: string;
  readonly key: Buffer;
  readonly secret: Buffer;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class Authenticator {
  readonly #digests: CredentialDigest[];

  constructor(inputs: readonly InputCredentials[]) {
    for (const { input, credentials } of inputs) {
      // The config loader refuses these too; this guard keeps an empty secret from ever meaning "open".
      if (credentials.some((c) => c.apiKey === '' || c.apiSecret === '')) {
        throw new TypeError(`input ${input}: an API key or secret is empty`);
      }
    }
    this.#digests = inputs.flatMap(({ input, credentials }) =>
      credentials.map((c) => ({ input, key: digest(c.apiKey), secret: digest(c.apiSecret) })),
    );
  }

  /** Returns the input the request authenticates as, or throws AUTH_MISSING / AUTH_MALFORMED / AUTH_INVALID. */
  authenticate(header: string | undefined): string {
    const { apiKey, apiSecret } = parseBasicAuthorization(header);
    const key = digest(apiKey);
    const secret = digest(apiSecret);
    let match: string | undefined;
    for (const candidate of this.#digests) {
      // Both comparisons always run: no early exit on a matching key with a wrong secret.
      const keyMatches = timingSafeEqual(candidate.key, key);
      const secretMatches = timingSafeEqual(candidate.secret, secret);
      if (keyMatches && secretMatches && match === undefined) match = candidate.input;
    }
    if (match === undefined) throw new ForwarderError('AUTH_INVALID');
    return match;
  }
}

export function parseBasicAuthorization(header: string | undefined): { apiKey: string; apiSecret: string } {
  if (header === undefined || header.trim() === '') throw new ForwarderError('AUTH_MISSING');
  const match = /^Basic[ \t]+([A-Za-z0-9+/=_-]+)[ \t]*$/i.exec(header);
  if (!match) throw new ForwarderError('AUTH_MALFORMED', { reason: 'expected "Basic <base64(key:secret)>"' });
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0)
    throw new ForwarderError('AUTH_MALFORMED', {
      reason: 'the decoded credentials have no ":" between key and secret',
    });
  const apiKey = decoded.slice(0, colon);
  const apiSecret = decoded.slice(colon + 1);
  if (apiKey === '') throw new ForwarderError('AUTH_MALFORMED', { reason: 'the API key is empty' });
  return { apiKey, apiSecret };
}
