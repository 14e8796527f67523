import { describe, expect, it } from 'vitest';
import { makeSyntheticCifar10 } from '@gradsync/data';
import { parseRunConfig } from '@gradsync/train';
import { fakeMember } from './fake-member';
import { datasetIdentity } from '@gradsync/protocol';
import { CHUNK_BYTES, sendWelcomeAndData, welcomeWorker } from './data-upload';

const data = makeSyntheticCifar10({ train: 3000, test: 10, seed: 1 }); // 9.2 MB of training pixels: 3 chunks
const welcome = { runId: 'r', config: parseRunConfig({ runName: 'r' }), checksum: 'c' };

describe('the data upload', () => {
  it('sends the welcome, then every byte in chunks of at most CHUNK_BYTES', async () => {
    const member = fakeMember(0);
    await sendWelcomeAndData(member, { ...welcome, dataFollows: true }, data);
    expect(member.sent[0]).toMatchObject({ type: 'welcome', dataset: { trainCount: 3000, testCount: 10 } });
    const chunks = member.sent.slice(1) as { type: 'data'; part: string; data: Uint8Array }[];
    expect(chunks.every((c) => c.type === 'data' && c.data.byteLength <= CHUNK_BYTES)).toBe(true);
    const bytes = (part: string) => chunks.filter((c) => c.part === part).reduce((n, c) => n + c.data.byteLength, 0);
    expect(bytes('train-images')).toBe(data.train.images.byteLength);
    expect(bytes('test-labels')).toBe(10);
  });

  it('sends no chunk to a worker with its own copy, and stops when the link closes', async () => {
    const own = fakeMember(0);
    await sendWelcomeAndData(own, { ...welcome, dataFollows: false }, data);
    expect(own.sent).toHaveLength(1);
    expect(own.sent[0]).toMatchObject({ type: 'welcome', dataFollows: false });

    const leaving = fakeMember(1);
    const send = leaving.sendFlushed;
    leaving.sendFlushed = (m) => {
      if (leaving.sent.length === 2) leaving.close(1001, 'gone');
      return send(m);
    };
    await sendWelcomeAndData(leaving, { ...welcome, dataFollows: true }, data);
    expect(leaving.sent.filter((m) => m.type === 'data')).toHaveLength(2);
  });

  it("skips the upload only for a worker whose own copy has the run's identity (bytes, class names and shape)", async () => {
    const lines: string[] = [];
    const log = (_level: string, line: string) => void lines.push(line);
    const identity = datasetIdentity({ checksum: 'c', classNames: data.classNames, shape: data.shape });
    const renamed = datasetIdentity({ checksum: 'c', classNames: data.classNames.map((n) => `${n}_2`), shape: data.shape });
    const sent: number[] = [];
    for (const offered of [identity, renamed, undefined]) {
      const member = fakeMember(0);
      member.hello = { dataChecksum: offered } as typeof member.hello;
      welcomeWorker(member, welcome, data, log);
      await new Promise((resolve) => setTimeout(resolve, 50));
      sent.push(member.sent.filter((m) => m.type === 'data').length);
    }
    expect(sent[0]).toBe(0);
    expect(sent[1]).toBeGreaterThan(0);
    expect(sent[2]).toBe(sent[1]);
    expect(lines).toEqual([
      'rank 0 read the same data itself (checksum matches): no upload',
      "rank 0's own data differs from the run's (another folder, flags or decoder): uploading the run's",
    ]);
  });
});
