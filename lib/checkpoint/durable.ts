import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * File I/O for checkpoints, each operation once for sync and once for async callers. The logic
 * above it is a generator of positioned reads (or a list of pieces to write), so it is written
 * once and only these drivers know which flavour of fs they use.
 */

/** The most bytes one read or write call moves: a tensor of any size goes through in pieces. */
export const CHUNK = 16 << 20;

/** A positioned read: fill `into` (at most CHUNK bytes) from the file at `position`. */
export interface ReadRequest {
  into: Uint8Array;
  position: number;
}

/** What reading a file asks of its driver: the file size first, then reads; returns the result. */
export type Reader<T> = (size: number) => Generator<ReadRequest, T, void>;

function shortRead(path: string, r: ReadRequest, got: number): Error {
  return new Error(`"${path}" ended after ${r.position + got} bytes while reading ${r.into.length} bytes at ${r.position} (was it truncated while being read?)`);
}

export function readFileSync<T>(path: string, reader: Reader<T>): T {
  const fd = fs.openSync(path, 'r');
  try {
    const steps = reader(fs.fstatSync(fd).size);
    for (let next = steps.next(); ; next = steps.next()) {
      if (next.done) return next.value;
      const r = next.value;
      for (let got = 0; got < r.into.length; ) {
        const n = fs.readSync(fd, r.into, got, r.into.length - got, r.position + got);
        if (n === 0) throw shortRead(path, r, got);
        got += n;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

export async function readFile<T>(path: string, reader: Reader<T>): Promise<T> {
  const fh = await fs.promises.open(path, 'r');
  try {
    const steps = reader((await fh.stat()).size);
    for (let next = steps.next(); ; next = steps.next()) {
      if (next.done) return next.value;
      const r = next.value;
      for (let got = 0; got < r.into.length; ) {
        const { bytesRead } = await fh.read(r.into, got, r.into.length - got, r.position + got);
        if (bytesRead === 0) throw shortRead(path, r, got);
        got += bytesRead;
      }
    }
  } finally {
    await fh.close();
  }
}

/**
 * A piece of the file at a known position, produced when it is written: views of host memory (or
 * of a download), each at most CHUNK bytes. Pieces are produced in order, so a later one (the
 * header) may depend on what producing an earlier one computed (the CRCs).
 */
export interface Piece {
  position: number;
  chunks(): Iterable<Uint8Array>;
}

// A fresh name beside the target: rename within one directory is atomic.
function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

// Windows cannot open a directory to fsync it; its rename is already durable enough there.
const SYNC_DIRS = process.platform !== 'win32';

/**
 * Writes the pieces to a temporary file in the target's directory, fsyncs it, renames it over the
 * target and fsyncs the directory: a crash at any moment leaves the old file or the new one whole.
 */
export function writeFileDurableSync(path: string, pieces: readonly Piece[]): void {
  const temp = tempPath(path);
  const fd = fs.openSync(temp, 'wx');
  let closed = false;
  try {
    for (const piece of pieces) {
      let position = piece.position;
      for (const bytes of piece.chunks()) {
        for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
        position += bytes.length;
      }
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    closed = true;
    fs.renameSync(temp, path);
  } catch (e) {
    if (!closed) fs.closeSync(fd);
    try { fs.unlinkSync(temp); } catch { /* already renamed or gone */ }
    throw e;
  }
  if (SYNC_DIRS) {
    const dir = fs.openSync(dirname(path), 'r');
    try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
  }
}

/** The same, with each write in flight while the next chunk is produced (its CRC computed). */
export async function writeFileDurable(path: string, pieces: readonly Piece[]): Promise<void> {
  const temp = tempPath(path);
  const fh = await fs.promises.open(temp, 'wx');
  let closed = false;
  let pending: Promise<void> = Promise.resolve();
  const writeAll = async (bytes: Uint8Array, position: number) => {
    for (let done = 0; done < bytes.length; ) done += (await fh.write(bytes, done, bytes.length - done, position + done)).bytesWritten;
  };
  try {
    for (const piece of pieces) {
      let position = piece.position;
      for (const bytes of piece.chunks()) {
        await pending;
        pending = writeAll(bytes, position);
        pending.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
        position += bytes.length;
      }
    }
    await pending;
    await fh.sync();
    await fh.close();
    closed = true;
    await fs.promises.rename(temp, path);
  } catch (e) {
    await pending.catch(() => undefined);
    if (!closed) await fh.close().catch(() => undefined);
    await fs.promises.unlink(temp).catch(() => undefined);
    throw e;
  }
  if (SYNC_DIRS) {
    const dir = await fs.promises.open(dirname(path), 'r');
    try { await dir.sync(); } finally { await dir.close(); }
  }
}
