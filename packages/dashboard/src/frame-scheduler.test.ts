import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameScheduler } from './frame-scheduler';

describe('FrameScheduler', () => {
  let frames: (() => void)[];
  let clock: number;
  const flush = () => {
    const f = frames;
    frames = [];
    for (const cb of f) cb();
  };

  beforeEach(() => {
    vi.useFakeTimers();
    frames = [];
    clock = 0;
  });
  afterEach(() => vi.useRealTimers());

  it('coalesces many requests into one draw per frame', () => {
    const draw = vi.fn();
    const s = new FrameScheduler(
      draw,
      250,
      (cb) => frames.push(cb),
      () => clock,
    );
    for (let i = 0; i < 1000; i++) s.request(true);
    expect(frames).toHaveLength(1);
    flush();
    expect(draw).toHaveBeenCalledTimes(1);
    expect(draw).toHaveBeenLastCalledWith(true);
  });

  it('redraws charts at most once per interval, catching up later', () => {
    const draw = vi.fn();
    const s = new FrameScheduler(
      draw,
      250,
      (cb) => frames.push(cb),
      () => clock,
    );
    s.request(true);
    flush();
    clock = 100;
    s.request(true);
    flush();
    expect(draw).toHaveBeenLastCalledWith(false);
    clock = 250;
    vi.advanceTimersByTime(150);
    flush();
    expect(draw).toHaveBeenLastCalledWith(true);
    expect(draw).toHaveBeenCalledTimes(3);
  });
});
