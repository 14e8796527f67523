import { describe, expect, it } from 'vitest';
import { expandHostList, MAX_HOSTS } from './host-list';

describe('SLURM host lists', () => {
  it('expands ranges and lists inside brackets, keeping the zero padding as written', () => {
    expect(expandHostList('node[01-04,07]')).toEqual(['node01', 'node02', 'node03', 'node04', 'node07']);
    expect(expandHostList('node[8-11]')).toEqual(['node8', 'node9', 'node10', 'node11']);
    expect(expandHostList('node[08-11]')).toEqual(['node08', 'node09', 'node10', 'node11']);
    expect(expandHostList('n[001-002]')).toEqual(['n001', 'n002']);
    expect(expandHostList('n[0-2]')).toEqual(['n0', 'n1', 'n2']);
  });

  it('takes plain names, several items, prefixes with digits and suffixes', () => {
    expect(expandHostList('login1')).toEqual(['login1']);
    expect(expandHostList('gpu[1-2],cpu7,big[3]')).toEqual(['gpu1', 'gpu2', 'cpu7', 'big3']);
    expect(expandHostList('a1b[2-3]-ib')).toEqual(['a1b2-ib', 'a1b3-ib']);
    expect(expandHostList('node-1.cluster.local,node-2.cluster.local')).toEqual(['node-1.cluster.local', 'node-2.cluster.local']);
  });

  it('gives every combination of several brackets in one name, in order', () => {
    expect(expandHostList('rack[1-2]-n[01-02]')).toEqual(['rack1-n01', 'rack1-n02', 'rack2-n01', 'rack2-n02']);
  });

  it('refuses a malformed list, naming it and the problem', () => {
    expect(() => expandHostList('node[1-3')).toThrow(/host list "node\[1-3": a "\[" is never closed/);
    expect(() => expandHostList('node1-3]')).toThrow(/"\]" without "\["/);
    expect(() => expandHostList('node[[1]]')).toThrow(/nested "\["/);
    expect(() => expandHostList('node[5-2]')).toThrow(/range 5-2 runs backwards/);
    expect(() => expandHostList('node[a-b]')).toThrow(/"a-b" in \[a-b\] is not a number or a range/);
    expect(() => expandHostList('node[]')).toThrow(/"" in \[\] is not a number/);
    expect(() => expandHostList('a,,b')).toThrow(/an empty name between commas/);
    expect(() => expandHostList('  ')).toThrow(/it is empty/);
    expect(() => expandHostList(`n[1-${MAX_HOSTS + 1}]`)).toThrow(/more than 100000 hosts/);
    expect(() => expandHostList('a[1-400]b[1-400]')).toThrow(/more than 100000 hosts/);
  });
});
