/**
 * Bytes ⇄ values for every gradsync message: one MessagePack configuration, the protocol version,
 * the error every decoder throws, and the primitives validators use to check decoded values.
 *
 * Messages are plain data only: null, booleans, numbers, strings, byte arrays (Uint8Array),
 * arrays and plain objects. msgpackr decodes several extension types whatever its options
 * (Date, Set, RegExp, Error, typed arrays, BigInt, undefined); `decode` refuses all of them, so a
 * peer cannot make the other side build an object it did not ask for. Float arrays travel as raw
 * little-endian bytes (`floatsToBytes` / `floatsFromBytes`), never as lists of numbers.
 *
 * `useRecords: false`: records (msgpackr's shared structures) save bytes on repeated object shapes
 * but make a message depend on state negotiated earlier on the stream; our control messages are
 * small and rare, and gradients go as raw bytes, so there is nothing to win.
 */
import { Packr, Unpackr, type Options } from 'msgpackr';
import { GradsyncError } from '@gradsync/core';

export const PROTOCOL_VERSION = 1;

/** A message that is malformed, unexpected, or from an incompatible peer. */
export class ProtocolError extends GradsyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_PROTOCOL', message, options);
    this.name = 'ProtocolError';
  }
}

export function isProtocolError(err: unknown): err is ProtocolError {
  return err instanceof ProtocolError;
}

/** Nesting deeper than this is refused (no message of ours comes close). */
export const MAX_MESSAGE_DEPTH = 32;

const packOptions: Options & { skipValues: unknown[] } = {
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  // An optional field left undefined is omitted instead of sent as an extension value
  // (msgpackr supports this option; its typings do not list it).
  skipValues: [undefined],
};
const packr = new Packr(packOptions);

const unpackr = new Unpackr({
  useRecords: false,
  structuredClone: false,
  mapsAsObjects: true,
  int64AsType: 'number',
});

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object without prototype';
}

/**
 * Throws ProtocolError unless `value` is plain data (see the file comment). When encoding, object
 * fields that are undefined are allowed: the packer omits them.
 */
function checkPlainData(value: unknown, path: string, depth: number, encoding: boolean): void {
  switch (typeof value) {
    case 'boolean':
    case 'number':
    case 'string':
      return;
    case 'object':
      break;
    default:
      throw new ProtocolError(`${path} is ${kindOf(value)}, which a message cannot carry`);
  }
  if (value === null || value instanceof Uint8Array) return;
  if (depth >= MAX_MESSAGE_DEPTH) throw new ProtocolError(`${path} is nested deeper than ${MAX_MESSAGE_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkPlainData(value[i], `${path}[${i}]`, depth + 1, encoding);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new ProtocolError(`${path} is ${kindOf(value)}, which a message cannot carry (floats go as bytes: floatsToBytes)`);
  }
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    if (field === undefined && encoding) continue;
    checkPlainData(field, `${path}.${key}`, depth + 1, encoding);
  }
}

/** Encodes a plain-data message. Throws ProtocolError for values a message cannot carry. */
export function encode(message: unknown): Uint8Array {
  checkPlainData(message, 'message', 0, true);
  try {
    return packr.pack(message);
  } catch (err) {
    throw new ProtocolError(`cannot encode message: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Decodes exactly one message occupying all of `bytes`. Throws only ProtocolError. */
export function decode(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new ProtocolError(`cannot decode ${kindOf(bytes)}: expected bytes`);
  if (bytes.byteLength === 0) throw new ProtocolError('cannot decode an empty message');
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (err) {
    throw new ProtocolError(`malformed message (${bytes.byteLength} bytes): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  checkPlainData(value, 'message', 0, false);
  return value;
}

/** A byte view of `floats` (no copy), little-endian as every supported platform stores them. */
export function floatsToBytes(floats: Float32Array): Uint8Array {
  return new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
}

/**
 * Float32 values from raw bytes: a view when the bytes are 4-byte aligned, else an aligned copy.
 * Throws ProtocolError when the length is not a multiple of 4.
 */
export function floatsFromBytes(bytes: Uint8Array, what = 'float payload'): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new ProtocolError(`${what} has ${bytes.byteLength} bytes, not a multiple of 4`);
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const copy = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(copy.buffer).set(bytes);
  return copy;
}

if (new Uint8Array(new Float32Array([1]).buffer)[3] !== 0x3f) {
  throw new GradsyncError('E_PLATFORM', 'gradsync sends floats as little-endian bytes and this platform is big-endian');
}

// ---- Primitives for validators (each returns the checked value or a ProtocolError) ----

/** The decoded value as an object with string keys, or a ProtocolError. */
export function expectRecord(value: unknown, what: string): Record<string, unknown> | ProtocolError {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    return new ProtocolError(`${what} must be an object, got ${kindOf(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Checks `record.type === type` and `record.v === PROTOCOL_VERSION`. */
export function expectHeader(record: Record<string, unknown>, type: string): ProtocolError | null {
  if (record.type !== type) return new ProtocolError(`expected a '${type}' message, got type ${JSON.stringify(record.type)}`);
  if (record.v !== PROTOCOL_VERSION) {
    return new ProtocolError(`'${type}' speaks protocol version ${JSON.stringify(record.v)}, this side speaks ${PROTOCOL_VERSION}`);
  }
  return null;
}

/** An integer field in [min, max]. */
export function expectInt(record: Record<string, unknown>, key: string, min: number, max: number, what: string): number | ProtocolError {
  const v = record[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    return new ProtocolError(`${what}.${key} must be an integer in ${min}..${max}, got ${typeof v === 'number' ? v : kindOf(v)}`);
  }
  return v;
}

/** A string field with length in [minLength, maxLength]; `optional` also accepts absent/null (→ undefined). */
export function expectString(
  record: Record<string, unknown>,
  key: string,
  what: string,
  limits: { minLength?: number; maxLength: number; optional?: boolean },
): string | undefined | ProtocolError {
  const v = record[key];
  if ((v === undefined || v === null) && limits.optional) return undefined;
  if (typeof v !== 'string') return new ProtocolError(`${what}.${key} must be a string, got ${kindOf(v)}`);
  if (v.length < (limits.minLength ?? 0) || v.length > limits.maxLength) {
    return new ProtocolError(`${what}.${key} must have ${limits.minLength ?? 0}..${limits.maxLength} characters, got ${v.length}`);
  }
  return v;
}
