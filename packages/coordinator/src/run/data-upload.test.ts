import { describe, expect, it } from 'vitest';
import { makeSyntheticCifar10 } from '@gradsync/data';
import { parseRunConfig } from '@gradsync/train';
import { fakeMember } from './fake-member';
import { CHUNK_BYTES, sendWelcomeAndData } from './data-upload';

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
});
