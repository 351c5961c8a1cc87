// Certificates as people read them: subject and issuer names, alternative names, validity, the
// chain a broker presented, and what the output trusts and presents.
import { X509Certificate } from 'node:crypto';
import type tls from 'node:tls';

export interface PeerCertificateInfo {
  subject: Record<string, string | string[]>;
  issuer: Record<string, string | string[]>;
  names: string[];
  validTo: string;
  validFrom: string;
  fingerprint256: string;
}

export function certificateInfo(cert: tls.PeerCertificate): PeerCertificateInfo {
  return {
    subject: cert.subject as unknown as Record<string, string | string[]>,
    issuer: cert.issuer as unknown as Record<string, string | string[]>,
    names: (cert.subjectaltname ?? '')
      .split(', ')
      .filter((name) => name !== '')
      .map((name) => name.replace('IP Address:', 'IP:')),
    validTo: cert.valid_to,
    validFrom: cert.valid_from,
    fingerprint256: cert.fingerprint256,
  };
}

export function peerChain(socket: tls.TLSSocket): PeerCertificateInfo[] {
  const chain: PeerCertificateInfo[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert !== undefined && Object.keys(cert).length > 0 && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(certificateInfo(cert));
    cert = cert.issuerCertificate;
  }
  return chain;
}

export function formatName(name: Record<string, string | string[]> | undefined): string {
  if (name === undefined) return '(none)';
  const order = ['CN', 'OU', 'O', 'L', 'ST', 'C'];
  const parts = order.filter((key) => name[key] !== undefined).map((key) => `${key}=${[name[key]].flat().join('+')}`);
  return parts.length > 0 ? `"${parts.join(', ')}"` : '(empty name)';
}

export function describePeer(chain: PeerCertificateInfo[]): string {
  const leaf = chain[0];
  if (leaf === undefined) return 'no certificate';
  const names = leaf.names.length > 0 ? leaf.names.join(', ') : 'no subject alternative names';
  return `certificate ${formatName(leaf.subject)} [${names}] issued by ${formatName(leaf.issuer)}, valid until ${leaf.validTo}`;
}

export function describeTrust(caPem: string | undefined): string {
  if (caPem === undefined) return "the system's CA store (no ca_file set)";
  const subjects = pemCertificates(caPem).map((pem) => {
    try {
      return `"${new X509Certificate(pem).subject.replace(/\n/g, ', ')}"`;
    } catch {
      return '(unparsable certificate)';
    }
  });
  return `only the CA(s) in ca_file: ${subjects.length > 0 ? subjects.join('; ') : '(no certificate found in it)'}`;
}

export function describeClientCertificate(certPem: string | undefined): string | undefined {
  if (certPem === undefined) return undefined;
  const first = pemCertificates(certPem)[0];
  try {
    const cert = new X509Certificate(first ?? certPem);
    return `"${cert.subject.replace(/\n/g, ', ')}" issued by "${cert.issuer.replace(/\n/g, ', ')}", valid until ${cert.validTo}`;
  } catch {
    return '(unparsable certificate)';
  }
}

export function pemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
