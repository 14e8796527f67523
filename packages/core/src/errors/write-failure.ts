import { appendFileSync, statSync, truncateSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { GradsyncError } from './gradsync-error';

/** Error codes that mean the disk (or the user's quota on it) is full. */
const FULL = new Set(['ENOSPC', 'EDQUOT']);

/** A file that could not be written, named; `diskFull` when the disk or quota ran out. */
export class WriteFailure extends GradsyncError {
  readonly file: string;
  readonly diskFull: boolean;
  constructor(file: string, cause: unknown) {
    const errno = (cause as NodeJS.ErrnoException | null)?.code;
    const diskFull = errno != null && FULL.has(errno);
    const what = diskFull
      ? `${errno === 'EDQUOT' ? 'disk quota exceeded' : 'no space left on device'} (${errno})`
      : ((cause as Error | null)?.message ?? String(cause));
    super(diskFull ? 'E_DISK_FULL' : 'E_WRITE', `cannot write ${file}: ${what}`, { cause });
    this.name = 'WriteFailure';
    this.file = file;
    this.diskFull = diskFull;
  }
}

/** `err` as a WriteFailure naming `file`, unless it already names one (the innermost file is the useful one). */
export function asWriteFailure(err: unknown, file: string): WriteFailure {
  return err instanceof WriteFailure ? err : new WriteFailure(file, err);
}

/** fs.promises.writeFile whose failure names the file. */
export async function writeFileNamed(file: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFile(file, data);
  } catch (err) {
    throw asWriteFailure(err, file);
  }
}

/**
 * Appends `data` to `file` whole or not at all: on failure (a full disk) the file is cut back to
 * its old size, so no reader meets a torn last record, and the error is a WriteFailure naming it.
 */
export function appendWhole(file: string, data: string | Uint8Array): void {
  let size: number | null = null;
  try {
    size = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    appendFileSync(file, data);
  } catch (err) {
    if (size !== null) {
      try {
        truncateSync(file, size);
      } catch {
        /* the file cannot even be cut back; readers (readJsonl, TensorBoard) stop at a torn last record */
      }
    }
    throw asWriteFailure(err, file);
  }
}
