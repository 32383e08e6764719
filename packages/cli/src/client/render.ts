import { NO_CLUSTER_TOKEN } from '@argus/bus';
import type { Event } from '@argus/query-api';

/**
 * Characters a terminal acts on instead of printing: C0 controls (ESC starts CSI and OSC
 * sequences that move the cursor, erase lines or set the title), DEL, C1 controls (0x9b is a
 * one-byte CSI), and the bidi controls that reorder what follows (RLO turns `gnp.exe` round).
 * Ids, clusters and subjects come from agents and CI, so none reaches the terminal raw
 * (adversarial review 2, finding 20).
 */
const TERMINAL_CONTROLS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const codePoint = (c: string): string => (c.codePointAt(0) ?? 0).toString(16).padStart(4, '0');

/** Text safe for a terminal: each control character shown as `\u{XXXX}`, the rest unchanged. */
export const terminalSafe = (text: string): string =>
  text.replace(TERMINAL_CONTROLS, (c) => `\\u{${codePoint(c)}}`);

/** JSON with the same characters as `\uXXXX` escapes: the same value, inert in a terminal. */
export const terminalSafeJson = (value: unknown): string =>
  JSON.stringify(value).replace(TERMINAL_CONTROLS, (c) => `\\u${codePoint(c)}`);

/** `--output json`: one object per line, the full CDEvent under `event`. */
export const eventJsonLine = (e: Event): string => {
  let event: unknown = e.cdeventJson;
  try {
    event = JSON.parse(e.cdeventJson);
  } catch {
    // keep the raw text: the hub stores what it received
  }
  return `${terminalSafeJson({
    id: e.id,
    type: e.type,
    instance: e.instance,
    cluster: e.cluster,
    timestamp: e.timestamp?.toISOString() ?? '',
    subjectId: e.subjectId,
    event,
  })}\n`;
};

/** Plain columns, widths from the content, no colour (pipes stay clean), controls made visible. */
export const table = (header: readonly string[], unsafeRows: readonly (readonly string[])[]): string => {
  const rows = unsafeRows.map((r) => r.map(terminalSafe));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
};

export const shortType = (e: Pick<Event, 'subjectType' | 'predicate'>): string =>
  `${e.subjectType}.${e.predicate}`;

export const EVENT_HEADER = ['TIME', 'CLUSTER', 'INSTANCE', 'TYPE', 'SUBJECT', 'ID'] as const;
export const eventRow = (e: Event): string[] => [
  e.timestamp?.toISOString() ?? '',
  e.cluster || NO_CLUSTER_TOKEN,
  e.instance,
  shortType(e),
  e.subjectId,
  e.id,
];

export const seconds = (value: number): string => {
  if (value === 0) return '-';
  if (value < 120) return `${value.toFixed(0)}s`;
  if (value < 7200) return `${(value / 60).toFixed(1)}m`;
  if (value < 172_800) return `${(value / 3600).toFixed(1)}h`;
  return `${(value / 86_400).toFixed(1)}d`;
};
