/**
 * What the embedded store's data directory sits on. At a small insert rate the store's cost is mostly the
 * kernel creating and deleting part files (every insert writes ~54 files, merges delete them), and on ext4
 * without a journal each new inode is checked against those deleted in the last minutes: `find_inode_bit`
 * in Linux's fs/ext4/ialloc.c calls `recently_deleted` only when the filesystem has no journal. The
 * figures are in the warning below (docs/benchmarks.md, 2026-12-07, ninth session).
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';

export interface DataFilesystem {
  /** The mount's filesystem type, e.g. ext4, xfs, tmpfs; undefined where /proc says nothing. */
  readonly type: string | undefined;
  /** The mounted device, e.g. /dev/vda. */
  readonly source: string | undefined;
  /** For ext4: whether it has a journal (undefined when jbd2 is not visible). */
  readonly journal: boolean | undefined;
  /** e.g. "ext4 without a journal (/dev/vda)", "tmpfs (tmpfs)", "unknown". */
  readonly description: string;
  /** Why this filesystem makes the store slow, to be logged; undefined when it does not. */
  readonly warning: string | undefined;
}

interface Mount {
  readonly point: string;
  readonly type: string;
  readonly source: string;
}

/** The mounts in /proc/<pid>/mountinfo text (its fields: proc(5)). */
export const parseMountinfo = (text: string): Mount[] =>
  text
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

/** What the machine tells, read by `dataFilesystem`; tests give their own. */
export interface FilesystemFacts {
  /** The text of /proc/self/mountinfo. */
  readonly mountinfo: string;
  /** The entries of /proc/fs/jbd2 (one per journal, `<device>-<inode>`), undefined when absent. */
  readonly journals: readonly string[] | undefined;
}

const machineFacts = (): FilesystemFacts => {
  let journals: string[] | undefined;
  try {
    journals = readdirSync('/proc/fs/jbd2');
  } catch {
    journals = undefined;
  }
  return { mountinfo: readFileSync('/proc/self/mountinfo', 'utf8'), journals };
};

const UNKNOWN: DataFilesystem = {
  type: undefined,
  source: undefined,
  journal: undefined,
  description: 'unknown',
  warning: undefined,
};

/** The filesystem `path` (an existing, resolved directory) is on: the mount with the longest prefix. */
export const describeFilesystem = (path: string, facts: FilesystemFacts): DataFilesystem => {
  const mount = parseMountinfo(facts.mountinfo)
    .filter((m) => path === m.point || path.startsWith(m.point === '/' ? '/' : `${m.point}/`))
    .sort((a, b) => b.point.length - a.point.length)[0];
  if (mount === undefined) return UNKNOWN;
  if (mount.type !== 'ext4') {
    return {
      type: mount.type,
      source: mount.source,
      journal: undefined,
      description: `${mount.type} (${mount.source})`,
      warning: undefined,
    };
  }
  const device = `${basename(mount.source)}-`;
  const journal = facts.journals?.some((name) => name.startsWith(device));
  const description = `ext4 ${journal === undefined ? 'journal unknown' : journal ? 'with a journal' : 'without a journal'} (${mount.source})`;
  return {
    type: mount.type,
    source: mount.source,
    journal,
    description,
    warning:
      journal === false
        ? `the data directory is on ${description}: there ext4 checks every new file against those deleted in the last minutes, and the store creates and deletes thousands of files a minute (at 1k events/s the hub spent 70-209 us an event in the kernel there, 80-89 us on a journaled ext4); put the data directory (--data-dir) on a journaled ext4, XFS or tmpfs`
        : undefined,
  };
};

/** The filesystem of directory `path` on this machine; "unknown" where /proc cannot tell (not Linux). */
export const dataFilesystem = (path: string): DataFilesystem => {
  try {
    return describeFilesystem(realpathSync(path), machineFacts());
  } catch {
    return UNKNOWN;
  }
};
