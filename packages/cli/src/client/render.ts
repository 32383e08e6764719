import type { Event } from '@argus/query-api';

/** `--output json`: one object per line, the full CDEvent under `event`. */
export const eventJsonLine = (e: Event): string => {
  let event: unknown = e.cdeventJson;
  try {
    event = JSON.parse(e.cdeventJson);
  } catch {
    // keep the raw text: the hub stores what it received
  }
  return `${JSON.stringify({
    id: e.id,
    type: e.type,
    instance: e.instance,
    cluster: e.cluster,
    timestamp: e.timestamp?.toISOString() ?? '',
    subjectId: e.subjectId,
    event,
  })}\n`;
};

/** Plain columns, widths from the content, no colour (pipes stay clean). */
export const table = (header: readonly string[], rows: readonly (readonly string[])[]): string => {
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
  e.cluster || '-',
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
