import { describe, expect, test } from 'vitest';
import { describeFilesystem, parseMountinfo } from '../src/data-filesystem.js';

// Lines as /proc/self/mountinfo gives them (proc(5)): optional fields before the '-'.
const MOUNTINFO = [
  '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683772k',
  '40 27 7:0 / /mnt/jfs rw,relatime shared:9 master:2 - ext4 /dev/loop0 rw',
  '41 27 253:1 / /srv/my\\040data rw,relatime - xfs /dev/mapper/data rw',
].join('\n');

describe('the data directory filesystem', () => {
  test('mount points are read past the optional fields, with their octal escapes', () => {
    expect(parseMountinfo(MOUNTINFO).map((m) => [m.point, m.type, m.source])).toEqual([
      ['/', 'ext4', '/dev/vda'],
      ['/dev/shm', 'tmpfs', 'tmpfs'],
      ['/mnt/jfs', 'ext4', '/dev/loop0'],
      ['/srv/my data', 'xfs', '/dev/mapper/data'],
    ]);
  });

  test('ext4 without a journal is named and warned about; with one it is not', () => {
    const facts = { mountinfo: MOUNTINFO, journals: ['loop0-8'] };
    const bare = describeFilesystem('/tmp/argus', facts);
    expect(bare.description).toBe('ext4 without a journal (/dev/vda)');
    expect(bare.journal).toBe(false);
    expect(bare.warning).toMatch(/\(--data-dir\) on a journaled ext4/);
    const journaled = describeFilesystem('/mnt/jfs/hub', facts);
    expect(journaled.description).toBe('ext4 with a journal (/dev/loop0)');
    expect(journaled.warning).toBeUndefined();
  });

  test('the longest mount prefix wins, and only at a path boundary', () => {
    const facts = { mountinfo: MOUNTINFO, journals: [] };
    expect(describeFilesystem('/dev/shm/x', facts).description).toBe('tmpfs (tmpfs)');
    expect(describeFilesystem('/srv/my data/ch', facts).description).toBe('xfs (/dev/mapper/data)');
    // /mnt/jfsx is not under /mnt/jfs: it is on the root.
    expect(describeFilesystem('/mnt/jfsx', facts).source).toBe('/dev/vda');
  });

  test('without jbd2 in /proc the journal is unknown and nothing is claimed', () => {
    const unknown = describeFilesystem('/var/lib', { mountinfo: MOUNTINFO, journals: undefined });
    expect(unknown.description).toBe('ext4 journal unknown (/dev/vda)');
    expect(unknown.warning).toBeUndefined();
    expect(describeFilesystem('/x', { mountinfo: '', journals: [] }).description).toBe('unknown');
  });
});
