import { describe, expect, it } from 'vitest';
import { WriteFailure } from '@gradsync/core/node';
import { writeFailureAdvice } from './write-failure-advice';

const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
const cmd = 'pnpm start --data-dir /d --resume /runs/r';

describe('writeFailureAdvice', () => {
  it('a full disk: the file, the newest good checkpoint, where to free space and the exact command', () => {
    const failure = new WriteFailure('/runs/r/metrics.jsonl', enospc);
    expect(
      writeFailureAdvice({ failure, runDir: '/runs/r', epochs: 6, newest: { dir: '/runs/r/checkpoints/00000004', nextEpoch: 2, step: 4 }, resumeCommand: cmd }),
    ).toBe(
      'cannot write /runs/r/metrics.jsonl: no space left on device (ENOSPC). Nothing is half-written; the newest good checkpoint is ' +
        '/runs/r/checkpoints/00000004 (after epoch 2 of 6, step 4). Free space on the disk holding /runs/r, then continue the run with: ' +
        'pnpm start --data-dir /d --resume /runs/r',
    );
  });

  it('before the first checkpoint: says resuming starts over', () => {
    const failure = new WriteFailure('/runs/r/checkpoints/00000002/state.bin', enospc);
    expect(writeFailureAdvice({ failure, runDir: '/runs/r', epochs: 6, newest: null, resumeCommand: cmd })).toMatch(
      /state\.bin: no space left on device \(ENOSPC\)\. Nothing is half-written, but no checkpoint had been written yet: resuming starts the run over\. Free space/,
    );
  });

  it('another write error: no talk of free space', () => {
    const failure = new WriteFailure('/runs/r/metrics.jsonl', Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }));
    const advice = writeFailureAdvice({ failure, runDir: '/runs/r', epochs: 6, newest: null, resumeCommand: cmd });
    expect(advice).toMatch(/Fix that, then continue the run with: pnpm start/);
    expect(advice).not.toMatch(/Free space/);
  });
});
