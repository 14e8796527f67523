import { ephemeralIdentity, type TlsIdentity } from '@gradsync/cluster';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RingAllReducer } from './ring-all-reducer';
import { certificateRefusal, peerUrlWithFingerprint, splitPeerUrl } from './ring-tls';
import { randomInputs, sameBytes } from '@gradsync/testing';
import { ringGroup } from './test-support';

// Ring links over mutual TLS on real sockets, each rank with its own certificate made in memory,
// pinned by the fingerprint announced in its peer URL.
let ids: TlsIdentity[];
beforeAll(async () => {
  ids = await Promise.all([0, 1, 2, 3].map((i) => ephemeralIdentity(`rank-${i}`)));
});

const open: RingAllReducer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

describe('peer URLs carry the certificate fingerprint', () => {
  it('splits it off for dialling and reads it back', () => {
    const fp = 'ab'.repeat(32);
    const url = peerUrlWithFingerprint('wss://10.0.0.2:7100', fp);
    expect(url).toBe(`wss://10.0.0.2:7100/#sha256=${fp}`);
    expect(splitPeerUrl(url)).toEqual({ dialUrl: 'wss://10.0.0.2:7100/', fingerprint: fp });
    expect(splitPeerUrl('ws://h:1')).toEqual({ dialUrl: 'ws://h:1' });
  });

  it('the listener refuses a dialer without the announced certificate, and says which', () => {
    const fp = 'ab'.repeat(32);
    expect(certificateRefusal(undefined, undefined, 1)).toBeNull();
    expect(certificateRefusal(fp, fp, 1)).toBeNull();
    expect(certificateRefusal(fp, undefined, 1)).toMatch(/rank 1 must link with TLS/);
    expect(certificateRefusal(fp, 'cd'.repeat(32), 1)).toBe('rank 1 showed certificate CD:CD:CD:CD..., not the one the coordinator handed out');
  });
});

describe('ring all-reduce over TLS (real sockets)', () => {
  it('three ranks with their own certificates sum exactly as over plain links', async () => {
    const reducers = await ringGroup(3, { identities: ids.slice(0, 3) });
    open.push(...reducers);
    for (const [i, r] of reducers.entries()) expect(r.url).toBe(`wss://127.0.0.1:${new URL(r.url).port}/#sha256=${ids[i].fingerprint}`);
    const inputs = randomInputs(3, 100_003, 5);
    const expected = new Float32Array(100_003);
    for (const x of inputs) for (let i = 0; i < x.length; i++) expected[i] += x[i];
    const plain = await ringGroup(3);
    open.push(...plain);
    const overTls = await Promise.all(reducers.map((r, i) => r.allReduceSum(inputs[i].slice(), 1)));
    const overPlain = await Promise.all(plain.map((r, i) => r.allReduceSum(inputs[i].slice(), 1)));
    for (let rank = 0; rank < 3; rank++) expect(sameBytes(overTls[rank], overPlain[rank])).toBe(true);
    expect(Math.max(...overTls[0].map((v, i) => Math.abs(v - expected[i])))).toBeLessThan(1e-5);
  });

  it('a listener whose certificate is not the one handed out is refused by the dialer before any hello', async () => {
    const [rank0, rank1, impostor] = await Promise.all([0, 1, 2].map((i) => RingAllReducer.listen({ tls: ids[i], connectTimeoutMs: 5_000 })));
    open.push(rank0, rank1, impostor);
    // The impostor answers on rank 1's address but cannot show rank 1's certificate.
    const impostorAtRank1 = peerUrlWithFingerprint(splitPeerUrl(impostor.url).dialUrl.replace(/\/$/, ''), ids[1].fingerprint);
    await expect(rank0.connect({ rank: 0, world: 2, peers: [rank0.url, impostorAtRank1], runId: 'r' })).rejects.toMatchObject({
      code: 'E_PEER_TLS',
      message: expect.stringMatching(
        /^a ring peer presented a certificate with SHA-256 fingerprint [0-9A-F:]+, not the expected [0-9A-F:]+; its certificate is not the one the coordinator handed out$/,
      ),
    });
  });

  it('a dialer whose certificate is not the one handed out is refused by the listener with the reason', async () => {
    const [rank0, rank1, rank2] = await Promise.all([3, 1, 2].map((i) => RingAllReducer.listen({ tls: ids[i], connectTimeoutMs: 5_000 })));
    open.push(rank0, rank1, rank2);
    // The coordinator handed out certificate 0 for rank 0, but the process at rank 0 holds certificate 3.
    const announced0 = peerUrlWithFingerprint(splitPeerUrl(rank0.url).dialUrl.replace(/\/$/, ''), ids[0].fingerprint);
    const peers = [announced0, rank1.url, rank2.url];
    for (const [rank, r] of [rank1, rank2].entries()) r.connect({ rank: rank + 1, world: 3, peers, runId: 'r' }).catch(() => {});
    await expect(rank0.connect({ rank: 0, world: 3, peers, runId: 'r' })).rejects.toMatchObject({
      code: 'E_PEER_REFUSED',
      message: expect.stringMatching(
        /^rank 1 at wss:\/\/127\.0\.0\.1:\d+\/ refused the link: .*rank 0 showed certificate [0-9A-F:]+\.\.\., not the one the coordinator handed out\)$/,
      ),
    });
  });
});
