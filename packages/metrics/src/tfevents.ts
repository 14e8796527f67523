import { crc32c } from '@aws-crypto/crc32c';
import protobuf from 'protobufjs';

/**
 * TensorBoard's event file format, written with no TensorFlow: a sequence of records, each
 *   uint64 length | uint32 masked CRC32C of the length bytes | data | uint32 masked CRC32C of data
 * (little-endian), where data is a serialized tensorflow.Event. Only the fields scalars need are
 * declared; protobuf readers skip what they do not know, so TensorBoard reads these unchanged.
 */
const EVENT_PROTO = `
syntax = "proto3";
package tensorflow;
message SummaryValue { string tag = 1; float simple_value = 2; }
message Summary { repeated SummaryValue value = 1; }
message SessionLog { enum Status { UNSPECIFIED = 0; START = 1; STOP = 2; CHECKPOINT = 3; } Status status = 1; }
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what { string file_version = 3; Summary summary = 5; SessionLog session_log = 6; }
}
`;
const EventType = protobuf.parse(EVENT_PROTO).root.lookupType('tensorflow.Event');

/** The first event of every file; TensorBoard checks it to know the format version. */
export const FILE_VERSION = 'brain.Event:2';

export interface Scalar {
  tag: string;
  value: number;
}

export type TfEvent =
  | { wallTime: number; step: number; fileVersion: string }
  | { wallTime: number; step: number; scalars: Scalar[] }
  /** "The run restarted here": TensorBoard drops the older events at this step and after. */
  | { wallTime: number; step: number; sessionStart: true };

/** TensorBoard's CRC mask (from TensorFlow's crc32c.h): rotate right by 15 and add a constant. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data) >>> 0;
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

export function encodeEvent(event: TfEvent): Uint8Array {
  const message: Record<string, unknown> = { wallTime: event.wallTime, step: event.step };
  if ('fileVersion' in event) message.fileVersion = event.fileVersion;
  else if ('scalars' in event) message.summary = { value: event.scalars.map((s) => ({ tag: s.tag, simpleValue: s.value })) };
  else message.sessionLog = { status: 1 };
  return EventType.encode(EventType.fromObject(message)).finish();
}

/** One framed record, ready to append to an events file. */
export function frameRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([header, data, footer]);
}

/** events.out.tfevents.<unix seconds>.<host>.<pid>: TensorBoard reads every file so named in a folder. */
export function eventFileName(nowMs: number, host: string, pid: number): string {
  return `events.out.tfevents.${Math.floor(nowMs / 1000)}.${host}.${pid}`;
}
