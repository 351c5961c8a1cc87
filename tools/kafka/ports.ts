// Ports for test brokers on 127.0.0.1.
//
// They are taken below the kernel's ephemeral range (net.ipv4.ip_local_port_range), never from it:
// a port in that range, free when asked for, is the source port of any outbound connection the
// kernel opens next (a forwarder reconnecting to a stopped broker opens many), and a broker that
// starts or restarts while such a connection holds its port cannot bind it and exits. Below the
// range the kernel hands out no ports of its own, so a port stays ours between stop and start.
//
// Other processes picking ports at the same time (the two shared clusters, a test's private
// cluster) are kept apart by a reservation file per port in the OS temp dir, held while the
// cluster directory that reserved it exists (and for a grace period after a reservation is made,
// before that directory has been written).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const reservationDir = path.join(os.tmpdir(), 'kafka-forwarder-test-ports');
/** A reservation younger than this holds even before its owner's directory exists. */
const RESERVATION_GRACE_MS = 5 * 60_000;
const LOWEST_PORT = 10_000;

/** The first port of the kernel's ephemeral range (32768 when it cannot be read). */
export function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const start = Number.parseInt(low, 10);
    return Number.isInteger(start) && start > LOWEST_PORT + 1000 ? start : 32_768;
  } catch {
    return 32_768;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function reservationPath(port: number): string {
  return path.join(reservationDir, String(port));
}

/** True when another cluster holds the port: its directory still exists, or it reserved it just now. */
function isReserved(port: number): boolean {
  const file = reservationPath(port);
  try {
    const owner = readFileSync(file, 'utf8').trim();
    if (owner !== '' && existsSync(owner)) return true;
    return Date.now() - statSync(file).mtimeMs < RESERVATION_GRACE_MS;
  } catch {
    return false;
  }
}

/** Claims the port's reservation file for ownerDir; false when another process holds it. */
function claim(port: number, ownerDir: string): boolean {
  mkdirSync(reservationDir, { recursive: true });
  const file = reservationPath(port);
  if (isReserved(port)) return false;
  rmSync(file, { force: true });
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch {
    return false; // Another process claimed it between the check and the create.
  }
  writeSync(fd, `${ownerDir}\n`);
  closeSync(fd);
  return true;
}

/**
 * `count` distinct free ports below the ephemeral range, reserved for the cluster in ownerDir until
 * that directory is removed (or releasePorts is called).
 */
export async function reservePorts(count: number, ownerDir: string): Promise<number[]> {
  const high = ephemeralRangeStart() - 1;
  const ports: number[] = [];
  for (let attempts = 0; ports.length < count; attempts++) {
    if (attempts > 20_000) throw new Error(`no ${count} free ports between ${LOWEST_PORT} and ${high}`);
    const port = LOWEST_PORT + Math.floor(Math.random() * (high - LOWEST_PORT + 1));
    if (ports.includes(port) || isReserved(port)) continue;
    if (!(await canBind(port))) continue;
    if (claim(port, ownerDir)) ports.push(port);
  }
  return ports;
}

/** Gives up the reservations (when the cluster's directory outlives it, as kafka:down's does). */
export function releasePorts(ports: readonly number[]): void {
  for (const port of ports) rmSync(reservationPath(port), { force: true });
}

/** Resolves true once something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
