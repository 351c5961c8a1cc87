// A TLS handshake made with node:tls directly, not through the Kafka client, so that the peer
// certificate (subject, names, issuer, chain) can be shown when verification fails; the trust
// settings are the ones the Kafka client uses (from kafkaConnection), so both judge a certificate
// alike. Failures are classified by the Kafka error table's TLS rules, as the sink classifies them.
import net from 'node:net';
import tls from 'node:tls';
import { classifyKafkaError, type KafkaErrorClassification } from '../error-table.ts';
import { kafkaConnection, type KafkaSecuritySettings } from '../kafka-client.ts';
import { formatName, peerChain, describeTrust, type PeerCertificateInfo } from './certificates.ts';
import type { Finding, HostPort } from './types.ts';

interface TlsProbe {
  protocol?: string;
  /** Leaf first, as the peer presented it (completed with the local trust store where it could). */
  chain: PeerCertificateInfo[];
  failure?: Finding;
}

/** TLS handshake with the output's trust settings, verified by hand so the certificate can be shown. */
export function probeTls(server: HostPort, security: KafkaSecuritySettings, timeoutMs: number): Promise<TlsProbe> {
  const options = kafkaConnection({ ...security, bootstrapServers: [server.text] }).tls ?? {};
  return new Promise((resolve) => {
    let settled = false;
    let socket: tls.TLSSocket;
    const finish = (probe: TlsProbe): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(probe);
    };
    try {
      socket = tls.connect({
        ...options,
        host: server.host,
        port: server.port,
        ...(net.isIP(server.host) === 0 && { servername: server.host }),
        // Verified below, after the certificate has been read, so that a failure can show it.
        rejectUnauthorized: false,
      });
    } catch (error) {
      resolve({ chain: [], failure: clientTlsSettingsFailure(error as NodeJS.ErrnoException) });
      return;
    }
    let handshakeDone = false;
    let chain: PeerCertificateInfo[] = [];
    const timer = setTimeout(() => {
      finish({
        chain,
        failure: handshakeDone
          ? {
              summary: `TLS is up but Kafka did not answer an ApiVersions request within ${timeoutMs} ms`,
              fix: 'check that this port is a Kafka listener (not another TLS service) and that the broker is healthy',
            }
          : {
              summary: `no TLS handshake within ${timeoutMs} ms`,
              fix: 'check that the port is a TLS (SSL or SASL_SSL) listener of the broker',
            },
      });
    }, timeoutMs);
    socket.once('secureConnect', () => {
      handshakeDone = true;
      chain = peerChain(socket);
      const verdict = verifyPeer(server, socket, chain, security.caPem);
      if (verdict !== undefined) {
        finish({ chain, failure: verdict });
        return;
      }
      // The handshake alone does not prove the broker accepted us: with TLS 1.3 a rejected client
      // certificate shows only afterwards. A request Kafka answers before authentication does.
      socket.write(apiVersionsRequest());
      let received = Buffer.alloc(0);
      socket.on('data', (data: Buffer) => {
        received = Buffer.concat([received, data]);
        if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
          finish({ protocol: socket.getProtocol() ?? 'TLS', chain });
        }
      });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      finish({ chain, failure: tlsErrorFailure(error, handshakeDone, security.clientCertPem !== undefined) });
    });
    socket.once('close', () => {
      finish({
        chain,
        failure: handshakeDone
          ? closedAfterHandshake(security.clientCertPem !== undefined)
          : {
              summary: 'the connection closed during the TLS handshake: the port does not seem to speak TLS',
              fix: tlsRule('ERR_SSL_WRONG_VERSION_NUMBER').fix,
            },
      });
    });
  });
}

/** The Kafka error table's TLS rule for a Node/OpenSSL error code: the sink and this probe judge a code alike. */
function tlsRule(code: string): KafkaErrorClassification {
  return classifyKafkaError(Object.assign(new Error(code), { code }));
}

function verifyPeer(
  server: HostPort,
  socket: tls.TLSSocket,
  chain: PeerCertificateInfo[],
  caPem: string | undefined,
): Finding | undefined {
  const leaf = chain[0];
  if (leaf === undefined) {
    return { summary: 'the broker presented no certificate', fix: 'configure a certificate on the broker listener' };
  }
  const code = (socket.authorizationError as unknown as string | Error | null) ?? null;
  const reason =
    typeof code === 'string' ? code : code === null ? null : ((code as NodeJS.ErrnoException).code ?? code.message);
  const rule = reason === null ? undefined : tlsRule(reason);
  if (reason !== null && rule !== undefined && rule.code !== 'TLS_HOSTNAME_MISMATCH') {
    if (rule.code === 'TLS_CERTIFICATE_EXPIRED')
      return outOfDate(chain) ?? { summary: `${rule.reason} (${reason})`, fix: rule.fix };
    const root = chain.at(-1) ?? leaf;
    const topIssuer = formatName(root.issuer);
    if (rule.code === 'TLS_UNTRUSTED_CERTIFICATE') {
      return {
        summary:
          `certificate ${formatName(leaf.subject)} is issued by ${formatName(leaf.issuer)}` +
          (topIssuer !== formatName(leaf.issuer) ? ` (chain ends at ${topIssuer})` : '') +
          `, which ${caPem === undefined ? "the system's CA store" : `ca_file (${describeTrust(caPem).replace(/^only the CA\(s\) in ca_file: /, '')})`} does not trust (${reason})`,
        fix:
          caPem === undefined
            ? `set ca_file to the PEM certificate of the CA ${topIssuer} (ask the Kafka operator for the cluster's CA)`
            : `ca_file holds a different CA: replace it with (or add) the PEM certificate of ${topIssuer}`,
      };
    }
    return {
      summary: `certificate ${formatName(leaf.subject)} failed verification: ${reason}`,
      fix: 'check the broker certificate chain (openssl s_client -connect host:port -showcerts)',
    };
  }
  const mismatch = tls.checkServerIdentity(server.host, socket.getPeerCertificate());
  if (mismatch !== undefined) {
    const dnsNames = leaf.names.filter((name) => name.startsWith('DNS:')).map((name) => name.slice(4));
    const named = leaf.names.length > 0 ? leaf.names.join(', ') : `only the subject ${formatName(leaf.subject)}`;
    return {
      summary: `certificate names ${named}, not ${server.host}`,
      fix:
        (dnsNames.length > 0
          ? `connect with a name it lists (e.g. ${dnsNames[0]}:${server.port}) if that resolves to the broker, `
          : '') +
        `or reissue the certificate with ${net.isIP(server.host) !== 0 ? 'IP' : 'DNS'}:${server.host} in its subject alternative names`,
    };
  }
  return undefined;
}

/** Which certificate of the chain is outside its validity period, by its dates and this machine's clock. */
function outOfDate(chain: readonly PeerCertificateInfo[]): Finding | undefined {
  const now = Date.now();
  for (const cert of chain) {
    const which = cert === chain[0] ? 'the broker certificate' : 'the certificate';
    if (Date.parse(cert.validTo) < now) {
      return {
        summary: `${which} ${formatName(cert.subject)} expired on ${cert.validTo}`,
        fix: 'renew the broker certificate (check the clock of this machine too)',
      };
    }
    if (Date.parse(cert.validFrom) > now) {
      return {
        summary: `${which} ${formatName(cert.subject)} is not valid before ${cert.validFrom}`,
        fix: "check this machine's clock, or the certificate's start date",
      };
    }
  }
  return undefined;
}

function tlsErrorFailure(error: NodeJS.ErrnoException, handshakeDone: boolean, hasClientCert: boolean): Finding {
  const code = error.code ?? '';
  if (handshakeDone && (code === 'ECONNRESET' || code === 'EPIPE')) return closedAfterHandshake(hasClientCert);
  // A reset during the handshake is what the client library reports as TLS_NOT_A_TLS_LISTENER too.
  const rule = tlsRule(code === 'ECONNRESET' ? 'ERR_SSL_WRONG_VERSION_NUMBER' : code);
  switch (rule.code) {
    case 'TLS_CLIENT_CERTIFICATE_REJECTED':
      return clientCertificateRejected(code, hasClientCert);
    case 'TLS_NOT_A_TLS_LISTENER':
      return { summary: `the port answered, but not with TLS (${code})`, fix: rule.fix };
    case 'TLS_HANDSHAKE_FAILED':
      return { summary: `${rule.reason} (${code})`, fix: rule.fix };
    default:
      return {
        summary: `TLS failed: ${code || error.message}`,
        fix: 'check the broker listener TLS settings and the output ca_file',
      };
  }
}

function clientCertificateRejected(code: string, hasClientCert: boolean): Finding {
  return hasClientCert
    ? {
        summary: `the broker rejected our client certificate (${code})`,
        fix: "have the client certificate signed by a CA in the broker's ssl.truststore, or fix client_cert_file/client_key_file",
      }
    : {
        summary: `the broker requires a client certificate (mutual TLS) and none is configured (${code})`,
        fix: 'set client_cert_file and client_key_file on the output, or use a listener without ssl.client.auth=required',
      };
}

function closedAfterHandshake(hasClientCert: boolean): Finding {
  return hasClientCert
    ? {
        summary:
          'the broker closed the connection right after the TLS handshake: it did not accept our client certificate',
        fix: "have the client certificate signed by a CA in the broker's ssl.truststore, or fix client_cert_file/client_key_file",
      }
    : {
        summary:
          'the broker closed the connection right after the TLS handshake: it probably requires a client certificate (mutual TLS)',
        fix: 'set client_cert_file and client_key_file on the output, or use a listener without ssl.client.auth=required',
      };
}

/** The output's own TLS material was refused by Node before any connection (a bad PEM, a key of another certificate). */
function clientTlsSettingsFailure(error: NodeJS.ErrnoException): Finding {
  const code = error.code ?? '';
  const rule = tlsRule(code);
  if (rule.code === 'TLS_CLIENT_KEY_INVALID') return { summary: `${rule.reason} (${code})`, fix: rule.fix };
  return {
    summary: `the TLS settings of the output cannot be used: ${code || 'invalid PEM'}`,
    fix: 'check that ca_file, client_cert_file and client_key_file hold PEM certificates/keys (an unencrypted key)',
  };
}

/** ApiVersions v0: answered by every Kafka broker, before any SASL authentication. */
function apiVersionsRequest(): Buffer {
  const clientId = Buffer.from('kafka-forwarder-test-connection');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0); // ApiVersions
  body.writeInt16BE(0, 2); // version 0
  body.writeInt32BE(1, 4); // correlation id
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}
