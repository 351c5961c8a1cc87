// TLS material for a test cluster, made fresh for every cluster with openssl (EC P-256 keys: fast
// to generate, understood by Java and Node alike). Kafka reads PEM key stores directly, so no JKS.
//
//   ca.pem                 test CA the brokers and the client trust
//   broker-keystore.pem    broker key + certificate (SAN DNS:localhost, IP:127.0.0.1) + CA
//   wrong-host-keystore.pem broker key + certificate for DNS:wrong-host.invalid only (host-name mismatch test)
//   client.pem/client.key  client certificate for mTLS, signed by the test CA
//   untrusted-ca.pem       a second CA that signed nothing the brokers serve (unknown-CA test)
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DevKafkaError } from './errors.ts';

const run = promisify(execFile);

export interface TlsMaterial {
  /** PEM of the CA that signed the broker and client certificates. */
  caPemPath: string;
  /** PEM of a CA that signed nothing the cluster serves. */
  untrustedCaPemPath: string;
  clientCertPemPath: string;
  clientKeyPemPath: string;
  /** Kafka PEM key store (private key, certificate, CA) for the normal listeners. */
  brokerKeystorePath: string;
  /** Kafka PEM key store whose certificate covers only wrong-host.invalid. */
  wrongHostKeystorePath: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    throw new DevKafkaError(`openssl ${args[0]} failed`, { cause: error });
  }
}

async function newKey(keyPath: string): Promise<void> {
  // genpkey writes PKCS#8 ("BEGIN PRIVATE KEY"), the only unencrypted form Kafka's PEM store reads.
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
}

async function newCa(dir: string, name: string, commonName: string): Promise<{ cert: string; key: string }> {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  await newKey(key);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    key,
    '-out',
    cert,
    '-days',
    '3650',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

async function newSignedCert(
  dir: string,
  name: string,
  commonName: string,
  extensions: string,
  ca: { cert: string; key: string },
): Promise<{ cert: string; key: string }> {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.pem`);
  const ext = path.join(dir, `${name}.ext`);
  await newKey(key);
  await writeFile(ext, extensions);
  await openssl(['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${commonName}`]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '3650',
    '-extfile',
    ext,
  ]);
  return { cert, key };
}

async function writeKeystore(target: string, parts: string[]): Promise<void> {
  const pems = await Promise.all(parts.map((part) => readFile(part, 'utf8')));
  await writeFile(target, pems.map((pem) => pem.trimEnd() + '\n').join(''), { mode: 0o600 });
}

export async function generateTlsMaterial(dir: string): Promise<TlsMaterial> {
  const [ca, untrusted] = await Promise.all([
    newCa(dir, 'ca', 'kafka-forwarder test CA'),
    newCa(dir, 'untrusted-ca', 'kafka-forwarder untrusted test CA'),
  ]);
  const serverExt = 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n';
  const wrongHostExt = 'subjectAltName=DNS:wrong-host.invalid\nextendedKeyUsage=serverAuth,clientAuth\n';
  const clientExt = 'subjectAltName=DNS:kafka-forwarder-client\nextendedKeyUsage=clientAuth\n';
  // Sequential: `-CAcreateserial` rewrites ca.srl, which parallel signings would race on.
  const broker = await newSignedCert(dir, 'broker', 'localhost', serverExt, ca);
  const wrongHost = await newSignedCert(dir, 'wrong-host', 'wrong-host.invalid', wrongHostExt, ca);
  const client = await newSignedCert(dir, 'client', 'kafka-forwarder-client', clientExt, ca);
  const brokerKeystorePath = path.join(dir, 'broker-keystore.pem');
  const wrongHostKeystorePath = path.join(dir, 'wrong-host-keystore.pem');
  await writeKeystore(brokerKeystorePath, [broker.key, broker.cert, ca.cert]);
  await writeKeystore(wrongHostKeystorePath, [wrongHost.key, wrongHost.cert, ca.cert]);
  return {
    caPemPath: ca.cert,
    untrustedCaPemPath: untrusted.cert,
    clientCertPemPath: client.cert,
    clientKeyPemPath: client.key,
    brokerKeystorePath,
    wrongHostKeystorePath,
  };
}
