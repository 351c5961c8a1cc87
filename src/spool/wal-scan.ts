// Reads a SQLite write-ahead log the way SQLite's recovery does, before SQLite opens it, so the spool can
// report what a crash left behind: how many committed frames will be replayed, and how many frames or
// bytes at the tail will be discarded (written after the last fsynced commit, or torn mid-write).
// Format: https://www.sqlite.org/fileformat2.html#walformat
import { readFileSync, statSync } from 'node:fs';

export interface WalScan {
  walBytesFound: number;
  walFramesRecovered: number;
  walFramesDiscarded: number;
  tornBytesDiscarded: number;
}

const WAL_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;
const MAGIC_LITTLE_ENDIAN = 0x377f0682;
const MAGIC_BIG_ENDIAN = 0x377f0683;
/** Above this size the WAL is not read into memory; SQLite still recovers it, we just do not count frames. */
const MAX_SCANNED_BYTES = 256 * 1024 * 1024;

const empty: WalScan = { walBytesFound: 0, walFramesRecovered: 0, walFramesDiscarded: 0, tornBytesDiscarded: 0 };

function checksum(
  data: Buffer,
  start: number,
  end: number,
  bigEndian: boolean,
  seed: [number, number],
): [number, number] {
  let [s0, s1] = seed;
  for (let i = start; i < end; i += 8) {
    const x0 = bigEndian ? data.readUInt32BE(i) : data.readUInt32LE(i);
    const x1 = bigEndian ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}

export function scanWal(walPath: string): WalScan {
  let size: number;
  try {
    size = statSync(walPath).size;
  } catch {
    return empty;
  }
  if (size < WAL_HEADER_BYTES || size > MAX_SCANNED_BYTES) return { ...empty, walBytesFound: size };
  const wal = readFileSync(walPath);
  const magic = wal.readUInt32BE(0);
  if (magic !== MAGIC_LITTLE_ENDIAN && magic !== MAGIC_BIG_ENDIAN) return { ...empty, walBytesFound: size };
  const bigEndian = magic === MAGIC_BIG_ENDIAN;
  const pageSize = wal.readUInt32BE(8);
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let running = checksum(wal, 0, 24, bigEndian, [0, 0]);
  if (running[0] !== wal.readUInt32BE(24) || running[1] !== wal.readUInt32BE(28)) {
    // A torn header: SQLite ignores the whole log (nothing in it was committed durably).
    return { ...empty, walBytesFound: size, tornBytesDiscarded: size };
  }
  const frameBytes = FRAME_HEADER_BYTES + pageSize;
  let validFrames = 0;
  let committedFrames = 0;
  let corruptFrames = 0;
  let offset = WAL_HEADER_BYTES;
  let intact = true;
  for (; offset + frameBytes <= size; offset += frameBytes) {
    // Frames of an older log generation (SQLite reuses the file after a checkpoint) carry other salts.
    if (wal.readUInt32BE(offset + 8) !== salt1 || wal.readUInt32BE(offset + 12) !== salt2) break;
    if (intact) {
      const next = checksum(wal, offset, offset + 8, bigEndian, running);
      const sum = checksum(wal, offset + FRAME_HEADER_BYTES, offset + frameBytes, bigEndian, next);
      if (sum[0] === wal.readUInt32BE(offset + 16) && sum[1] === wal.readUInt32BE(offset + 20)) {
        running = sum;
        validFrames += 1;
        if (wal.readUInt32BE(offset + 4) !== 0) committedFrames = validFrames;
        continue;
      }
      intact = false;
    }
    corruptFrames += 1;
  }
  const tornBytes = (size - WAL_HEADER_BYTES) % frameBytes;
  return {
    walBytesFound: size,
    walFramesRecovered: committedFrames,
    walFramesDiscarded: validFrames - committedFrames + corruptFrames,
    tornBytesDiscarded: tornBytes,
  };
}
