/**
 * Reads chosen files out of a tar archive (plain or gzipped) into memory, streamed with node-tar:
 * nothing is extracted to disk.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { GradsyncError } from '@gradsync/core';

export interface TarContents {
  /** Bytes of the entries that `want` accepted, keyed by their path in the archive. */
  files: Map<string, Uint8Array>;
  /** Paths of every regular file in the archive, in archive order. */
  allFiles: string[];
}

const REGULAR_FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const BLOCK = 512;
/** A tar ends with two zero blocks; without them the archive was cut short. */
const END_MARKER = 2 * BLOCK;

/**
 * Streams `archivePath` (.tar or .tar.gz) and keeps the regular files whose path `want` accepts.
 * A truncated or corrupt archive is a DATA_CORRUPT_ARCHIVE error naming the file.
 */
export async function readTarEntries(archivePath: string, want: (entryPath: string) => boolean): Promise<TarContents> {
  const gzipped = await startsWithGzipMagic(archivePath);
  const files = new Map<string, Uint8Array>();
  const allFiles: string[] = [];
  let failure: unknown;
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      if (!REGULAR_FILE_TYPES.has(entry.type) || !want(entry.path)) {
        if (REGULAR_FILE_TYPES.has(entry.type)) allFiles.push(entry.path);
        entry.resume();
        return;
      }
      allFiles.push(entry.path);
      collect(entry, files, (err) => (failure ??= err));
    },
  });
  const parsed = new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
  });
  parsed.catch((err) => (failure ??= err));

  let total = 0;
  let tail: Buffer = Buffer.alloc(0);
  try {
    const source = createReadStream(archivePath);
    const stream: Readable = gzipped ? pipeline(source, createGunzip(), () => {}) : source;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (failure) break;
      total += chunk.length;
      tail = chunk.length >= END_MARKER ? chunk.subarray(chunk.length - END_MARKER) : Buffer.concat([tail, chunk]).subarray(-END_MARKER);
      parser.write(chunk);
    }
    if (failure) throw failure;
    parser.end();
    await parsed;
    if (failure) throw failure;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') {
      throw new GradsyncError('DATA_NOT_FOUND', `${archivePath} does not exist`, { cause: err });
    }
    throw corrupt(archivePath, err);
  }
  if (total % BLOCK !== 0 || tail.length < END_MARKER || tail.some((b) => b !== 0)) {
    throw corrupt(archivePath, new Error(`the tar stream (${total} bytes) stops without its end-of-archive marker`));
  }
  return { files, allFiles };
}

/** Copies an entry's bytes into one buffer of its declared size; stores it on 'end'. */
function collect(entry: ReadEntry, files: Map<string, Uint8Array>, fail: (err: Error) => void): void {
  const bytes = new Uint8Array(entry.size);
  let at = 0;
  entry.on('data', (chunk: Buffer) => {
    if (at + chunk.length > bytes.length) {
      fail(new Error(`entry ${entry.path} holds more bytes than its header's size ${entry.size}`));
      return;
    }
    bytes.set(chunk, at);
    at += chunk.length;
  });
  entry.on('end', () => {
    if (at !== bytes.length) fail(new Error(`entry ${entry.path} ends after ${at} of its ${entry.size} bytes`));
    files.set(entry.path, bytes);
  });
}

async function startsWithGzipMagic(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') {
      throw new GradsyncError('DATA_NOT_FOUND', `${path} does not exist`, { cause: err });
    }
    throw new GradsyncError('DATA_READ_FAILED', `${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

function corrupt(archivePath: string, err: unknown): GradsyncError {
  const detail = err instanceof Error ? err.message : String(err);
  return new GradsyncError(
    'DATA_CORRUPT_ARCHIVE',
    `${archivePath}: truncated or corrupt archive (${detail}); download it again or point --data-dir at a good copy`,
    { cause: err },
  );
}
