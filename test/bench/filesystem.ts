/**
 * What a benchmark's data directory sits on, for its notes: the store's cost at a small insert rate is
 * mostly the kernel creating part files, and that cost depends on the filesystem. On ext4 without a
 * journal, every new inode is checked against those deleted in the last minutes (`recently_deleted` in
 * fs/ext4/ialloc.c runs only when the filesystem has no journal), and ClickHouse deletes and creates
 * thousands of files a minute (docs/benchmarks.md, 2026-12-07, ninth session).
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';

interface Mount {
  readonly point: string;
  readonly type: string;
  readonly source: string;
}

/** The mounts of this process's namespace, from /proc/self/mountinfo (its fields: proc(5)). */
const mounts = (): Mount[] =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const fields = line.split(' ');
      const after = fields.indexOf('-');
      // Octal escapes (\040 a space) in the mount point.
      const point = (fields[4] ?? '').replace(/\\([0-7]{3})/g, (_, octal: string) =>
        String.fromCharCode(Number.parseInt(octal, 8)),
      );
      return { point, type: fields[after + 1] ?? '', source: fields[after + 2] ?? '' };
    });

/** e.g. "ext4 without a journal (/dev/vda)", "tmpfs"; "unknown" where /proc says nothing. */
export const describeFilesystem = (path: string): string => {
  try {
    const real = realpathSync(path);
    const mount = mounts()
      .filter((m) => real === m.point || real.startsWith(m.point === '/' ? '/' : `${m.point}/`))
      .sort((a, b) => b.point.length - a.point.length)[0];
    if (mount === undefined) return 'unknown';
    if (mount.type !== 'ext4') return `${mount.type} (${mount.source})`;
    // jbd2 lists each journal as <device>-<inode of the journal> (8 for an internal one).
    const device = `${basename(mount.source)}-`;
    const journal = existsSync('/proc/fs/jbd2')
      ? readdirSync('/proc/fs/jbd2').some((name) => name.startsWith(device))
        ? 'with a journal'
        : 'without a journal'
      : 'journal unknown';
    return `ext4 ${journal} (${mount.source})`;
  } catch {
    return 'unknown';
  }
};
