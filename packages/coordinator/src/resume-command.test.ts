import { describe, expect, it } from 'vitest';
import { parse } from 'shell-quote';
import { resumeCommand } from './resume-command';

describe('resumeCommand', () => {
  it('keeps what the user typed but the run-folder flags, and adds --resume with the absolute folder', () => {
    const args = ['--workers', '2', '--data-dir', '/data/cifar', '--runs-dir', 'runs', '--run-name', 'r1', '--epochs', '6', '--port=0'];
    expect(resumeCommand('pnpm start', args, '/work/runs/r1')).toBe(
      'pnpm start --workers 2 --data-dir /data/cifar --epochs 6 --port\\=0 --resume /work/runs/r1',
    );
  });

  it('a run that was already resumed: one --resume, the = forms dropped too', () => {
    expect(resumeCommand('pnpm coordinator', ['--resume=runs/old', '--runs-dir=x', '--port', '7070'], '/r/old')).toBe(
      'pnpm coordinator --port 7070 --resume /r/old',
    );
  });

  it('quotes what the shell would split, so the command round-trips', () => {
    const cmd = resumeCommand('pnpm start', ['--data-dir', '/my data/cifar'], '/runs/it’s here');
    expect(parse(cmd.slice('pnpm start '.length))).toEqual(['--data-dir', '/my data/cifar', '--resume', '/runs/it’s here']);
  });
});
