/**
 * Reads CIFAR-10 in the official binary layout from a path: a folder with the batch files
 * (`.bin` or `.bin.gz`, directly or inside `cifar-10-batches-bin/`), a folder holding
 * `cifar-10-binary.tar.gz`, or the path of the archive itself. Every expected file must be there.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { GradsyncError } from '@gradsync/core';
import { concatSplits, parseCifarRecords } from './format';
import { readTarEntries } from './tar-entries';
import {
  ARCHIVE_FILE_NAME,
  BATCHES_FOLDER,
  CIFAR10_CLASS_NAMES,
  META_FILE_NAME,
  NUM_CLASSES,
  OFFICIAL_TRAIN_FILES,
  TEST_FILE_NAME,
  trainFileNames,
  type Cifar10,
  CIFAR_SHAPE,
} from './types';

const gunzipAsync = promisify(gunzip);

export interface ReadCifar10Options {
  /** Number of training files data_batch_1..N to expect; the official set has 5. */
  trainFiles?: number;
}

/** The files of one place (a folder or an archive), by base name. */
interface FileSet {
  /** Human description, used in `source` and in errors. */
  where: string;
  /** Base names of the CIFAR-10 files available. */
  has(name: string): boolean;
  read(name: string): Promise<Uint8Array>;
  /** How to name one file of the set in an error. */
  label(name: string): string;
  /** Everything found there, for the "missing" error. */
  found: string[];
}

const BATCH_FILE_PATTERN = /^(data_batch_\d+|test_batch)\.bin(\.gz)?$/;
const TRAIN_FILE_PATTERN = /^data_batch_(\d+)\.bin(\.gz)?$/;
const ARCHIVE_PATTERN = /\.(tar\.gz|tgz|tar)$/;

/** Reads CIFAR-10 from `path` (a folder or an archive); see the module comment for the layouts. */
export async function readCifar10Binary(path: string, options: ReadCifar10Options = {}): Promise<Cifar10> {
  const trainFiles = options.trainFiles ?? OFFICIAL_TRAIN_FILES;
  if (!Number.isInteger(trainFiles) || trainFiles < 1) {
    throw new GradsyncError('DATA_BAD_ARGUMENT', `trainFiles must be a positive integer, got ${trainFiles}`);
  }
  const files = await locate(resolve(path));
  return assemble(files, trainFiles);
}

async function locate(path: string): Promise<FileSet> {
  const info = await statOrNull(path);
  if (!info) {
    throw new GradsyncError('DATA_NOT_FOUND', `data path ${path} does not exist (--data-dir)`);
  }
  if (info.isFile()) {
    if (!ARCHIVE_PATTERN.test(path)) {
      throw new GradsyncError(
        'DATA_BAD_ARGUMENT',
        `${path} is a file but not a .tar.gz archive; pass --data-dir a folder with the CIFAR-10 binary batches or the path of ${ARCHIVE_FILE_NAME}`,
      );
    }
    return archiveFileSet(path);
  }
  if (!info.isDirectory()) {
    throw new GradsyncError('DATA_BAD_ARGUMENT', `${path} is neither a folder nor a file`);
  }
  const topNames = await readdir(path);
  for (const folder of [path, join(path, BATCHES_FOLDER)]) {
    const names = folder === path ? topNames : await readdirOrNull(folder);
    if (names && names.some((n) => BATCH_FILE_PATTERN.test(n))) {
      const archiveNote = topNames.includes(ARCHIVE_FILE_NAME)
        ? ` (${ARCHIVE_FILE_NAME} is also in ${path}: remove the partial batch files or pass the archive's path)`
        : '';
      return folderFileSet(folder, names, archiveNote);
    }
  }
  if (topNames.includes(ARCHIVE_FILE_NAME)) {
    return archiveFileSet(join(path, ARCHIVE_FILE_NAME));
  }
  return folderFileSet(path, topNames, '');
}

function folderFileSet(folder: string, names: string[], note: string): FileSet & { note: string } {
  const available = new Set(names);
  return {
    where: folder,
    note,
    found: [...names].sort(),
    has: (name) => available.has(name),
    label: (name) => join(folder, name),
    read: async (name) => {
      try {
        return await readFile(join(folder, name));
      } catch (err) {
        throw new GradsyncError('DATA_READ_FAILED', `${join(folder, name)}: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}

async function archiveFileSet(archivePath: string): Promise<FileSet> {
  const wanted = (entryPath: string) => {
    const name = basename(entryPath);
    return BATCH_FILE_PATTERN.test(name) || name === META_FILE_NAME;
  };
  const { files, allFiles } = await readTarEntries(archivePath, wanted);
  const byName = new Map<string, Uint8Array>();
  for (const [entryPath, bytes] of files) {
    const name = basename(entryPath);
    if (byName.has(name)) {
      throw new GradsyncError('DATA_AMBIGUOUS', `${archivePath}: the archive holds more than one ${name}`);
    }
    byName.set(name, bytes);
  }
  return {
    where: `archive ${archivePath}`,
    found: allFiles,
    has: (name) => byName.has(name),
    label: (name) => `${archivePath} (entry ${name})`,
    read: async (name) => {
      const bytes = byName.get(name);
      if (!bytes) throw new GradsyncError('DATA_MISSING_FILES', `${archivePath}: no ${name} in the archive`);
      byName.delete(name); // free the raw bytes once parsed
      return bytes;
    },
  };
}

async function assemble(files: FileSet & { note?: string }, trainFiles: number): Promise<Cifar10> {
  const required = [...trainFileNames(trainFiles), TEST_FILE_NAME];
  const chosen = new Map<string, string>();
  const missing: string[] = [];
  for (const name of required) {
    if (files.has(name)) chosen.set(name, name);
    else if (files.has(`${name}.gz`)) chosen.set(name, `${name}.gz`);
    else missing.push(name);
  }
  if (missing.length > 0) {
    const shown = files.found.slice(0, 20).join(', ') + (files.found.length > 20 ? `, … (${files.found.length} in all)` : '');
    throw new GradsyncError(
      'DATA_MISSING_FILES',
      `CIFAR-10 files missing in ${files.where}: ${missing.join(', ')} (plain or .gz). ` +
        `Found: ${shown || 'nothing'}.${files.note ?? ''} ` +
        `--data-dir takes a folder with ${required[0]}..${required[trainFiles - 1]} and ${TEST_FILE_NAME} (or .bin.gz), ` +
        `a folder holding ${ARCHIVE_FILE_NAME}, or the archive's path`,
    );
  }
  const extra = files.found
    .map((p) => basename(p))
    .filter((n) => {
      const m = TRAIN_FILE_PATTERN.exec(n);
      return m !== null && (Number(m[1]) > trainFiles || Number(m[1]) < 1);
    });
  if (extra.length > 0) {
    throw new GradsyncError(
      'DATA_UNEXPECTED_FILES',
      `${files.where} holds ${extra.join(', ')} beyond the ${trainFiles} expected training files (data_batch_1..${trainFiles})`,
    );
  }

  const parse = async (name: string) => {
    const stored = chosen.get(name)!;
    const raw = await files.read(stored);
    const label = files.label(stored);
    const bytes = stored.endsWith('.gz') ? await gunzipFile(raw, label) : raw;
    return parseCifarRecords(bytes, label);
  };
  const trainParts = [];
  for (const name of trainFileNames(trainFiles)) trainParts.push(await parse(name));
  const train = concatSplits(trainParts);
  trainParts.length = 0;
  const test = await parse(TEST_FILE_NAME);
  const classNames = await readClassNames(files);
  const gz = [...chosen.values()].some((n) => n.endsWith('.gz')) ? ' (.bin.gz)' : '';
  return {
    train,
    test,
    shape: { ...CIFAR_SHAPE },
    classNames,
    source: `${files.where}: ${trainFiles} training files${gz}, ${train.count} train / ${test.count} test images`,
  };
}

async function readClassNames(files: FileSet): Promise<string[]> {
  if (!files.has(META_FILE_NAME)) return [...CIFAR10_CLASS_NAMES];
  const text = new TextDecoder().decode(await files.read(META_FILE_NAME));
  const names = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (names.length !== NUM_CLASSES) {
    throw new GradsyncError('DATA_BAD_META', `${files.label(META_FILE_NAME)} lists ${names.length} class names; expected ${NUM_CLASSES}, one per line`);
  }
  return names;
}

async function gunzipFile(bytes: Uint8Array, label: string): Promise<Uint8Array> {
  try {
    return await gunzipAsync(bytes);
  } catch (err) {
    throw new GradsyncError('DATA_CORRUPT_ARCHIVE', `${label}: truncated or corrupt gzip file (${(err as Error).message})`, { cause: err });
  }
}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    throw err;
  }
}

async function readdirOrNull(path: string): Promise<string[] | null> {
  try {
    return await readdir(path);
  } catch {
    return null;
  }
}
