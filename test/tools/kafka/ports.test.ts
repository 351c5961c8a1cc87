// Test brokers' ports: below the kernel's ephemeral range (so no outbound connection can hold one
// while its broker restarts), distinct, and never handed to two clusters at once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ephemeralRangeStart, releasePorts, reservePorts } from '../../../tools/kafka/ports.ts';

const owners: string[] = [];
after(() => {
  for (const dir of owners) rmSync(dir, { recursive: true, force: true });
});

function ownerDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ports-test-'));
  owners.push(dir);
  return dir;
}

void test('reserved ports lie below the ephemeral range and are distinct', async () => {
  const ports = await reservePorts(18, ownerDir());
  try {
    assert.equal(new Set(ports).size, 18);
    for (const port of ports) assert.ok(port < ephemeralRangeStart(), `${port} is below ${ephemeralRangeStart()}`);
  } finally {
    releasePorts(ports);
  }
});

void test('clusters reserving at the same time never share a port, while their directories exist', async () => {
  const results = await Promise.all(Array.from({ length: 8 }, () => reservePorts(18, ownerDir())));
  try {
    const all = results.flat();
    assert.equal(new Set(all).size, all.length);
  } finally {
    for (const ports of results) releasePorts(ports);
  }
});

void test('a port whose owner directory still exists is not handed out again, even when nothing listens on it', async () => {
  const owner = ownerDir();
  const held = await reservePorts(50, owner);
  try {
    const later = await reservePorts(500, ownerDir());
    releasePorts(later);
    assert.deepEqual(
      later.filter((port) => held.includes(port)),
      [],
    );
  } finally {
    releasePorts(held);
  }
});

void test('a port something listens on is skipped', async () => {
  const server = net.createServer();
  const high = ephemeralRangeStart() - 1;
  // Occupy a port in the range reservePorts draws from, then reserve many: it must not come back.
  let occupied = 0;
  for (let port = 20_000; port < high && occupied === 0; port += 7) {
    occupied = await new Promise<number>((resolve) => {
      server.once('error', () => resolve(0));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(port));
    });
  }
  try {
    const ports = await reservePorts(2_000, ownerDir());
    releasePorts(ports);
    assert.ok(!ports.includes(occupied), `${occupied} is in use`);
  } finally {
    server.close();
  }
});
