/** Short human forms of times, durations and artifact ids. */

export const ago = (time: string | number, now = Date.now()): string =>
  `${duration((now - new Date(time).getTime()) / 1000)} ago`;

export const duration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
};

/** The version of an artifact purl (`pkg:oci/podinfo@v2` -> `v2`), or the id itself. */
export const version = (artifactId: string): string => {
  if (artifactId === '') return '(no artifact)';
  const at = artifactId.lastIndexOf('@');
  const tail = at >= 0 ? artifactId.slice(at + 1) : artifactId;
  return tail.split('?')[0] ?? tail;
};

export const time = (value: string): string => new Date(value).toISOString().replace('T', ' ').slice(0, 19);
