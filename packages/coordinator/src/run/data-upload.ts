import type { ModelTopology, RunConfig } from '@gradsync/train';
import { type Cifar10, labelBytes } from '@gradsync/data';
import { CLOSE, datasetIdentity, PROTOCOL_VERSION } from '@gradsync/protocol';
import type { Member } from './member';

/** Data travels in frames of this size: large enough to stream fast, small enough to interleave with heartbeats. */
export const CHUNK_BYTES = 4 << 20;

/** Welcomes an admitted worker and streams it the whole data set (unless it read the same itself); it answers `ready` (phase data) once checked. */
export async function sendWelcomeAndData(
  member: Member,
  welcome: { runId: string; config: RunConfig; checksum: string; modelTopology?: ModelTopology; dataFollows: boolean },
  data: Cifar10,
): Promise<void> {
  member.send({
    type: 'welcome',
    v: PROTOCOL_VERSION,
    runId: welcome.runId,
    rank: member.rank,
    config: welcome.config as unknown as Record<string, unknown>,
    dataset: {
      trainCount: data.train.count,
      testCount: data.test.count,
      classNames: data.classNames,
      shape: data.shape,
      labelBytes: data.train.labels.BYTES_PER_ELEMENT as 1 | 2,
      checksum: welcome.checksum,
      source: data.source,
    },
    ...(welcome.modelTopology && { modelTopology: welcome.modelTopology }),
    ...(!welcome.dataFollows && { dataFollows: false }),
  });
  if (!welcome.dataFollows) return;
  const parts = [
    ['train-images', data.train.images],
    ['train-labels', labelBytes(data.train.labels)],
    ['test-images', data.test.images],
    ['test-labels', labelBytes(data.test.labels)],
  ] as const;
  for (const [part, bytes] of parts) {
    for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
      // One chunk at a time: the heartbeat's pings go out between them, and a slow link holds one chunk, not the data set.
      const open = await member.sendFlushed({ type: 'data', part, offset, data: bytes.subarray(offset, Math.min(bytes.length, offset + CHUNK_BYTES)) });
      if (!open) return;
    }
  }
}

/**
 * Welcomes a worker that just said hello: no upload when it read the very same data itself (its
 * hello's datasetIdentity), else the run's data. A failed upload closes its link.
 */
export function welcomeWorker(
  member: Member,
  welcome: { runId: string; config: RunConfig; checksum: string; modelTopology?: ModelTopology },
  data: Cifar10,
  log: (level: 'info' | 'warn' | 'error', line: string) => void,
): void {
  const offered = member.hello?.dataChecksum;
  const ownCopy = offered === datasetIdentity({ checksum: welcome.checksum, classNames: data.classNames, shape: data.shape });
  if (ownCopy) log('info', `${member.label} read the same data itself (checksum matches): no upload`);
  else if (offered !== undefined) log('warn', `${member.label}'s own data differs from the run's (another folder, flags or decoder): uploading the run's`);
  sendWelcomeAndData(member, { ...welcome, dataFollows: !ownCopy }, data).catch((err: unknown) => {
    const why = `uploading the data failed: ${(err as Error).message}`;
    log('error', `${member.label}: ${why}`);
    member.close(CLOSE.internal, why);
  });
}
