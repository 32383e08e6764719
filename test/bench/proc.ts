/** What Linux says of a process the benchmarks measure: its memory and CPU from /proc. */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of `/proc/<pid>/stat` times on Linux. */
const CLOCK_TICKS = 100;

/** Kilobytes of a `/proc/<pid>/status` field (VmRSS: now, VmHWM: the peak so far). */
export const procKb = (pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN);
};

/** CPU seconds a process has used so far (all threads), in user space and in the kernel for it. */
export const procCpuSplit = (pid: number | undefined): { user: number; system: number } => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from the third on: utime is 14th, stime 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
};

/** CPU seconds (user + system, all threads) a process has used so far. */
export const procCpuSeconds = (pid: number | undefined): number => {
  const { user, system } = procCpuSplit(pid);
  return user + system;
};
