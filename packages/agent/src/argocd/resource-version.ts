/**
 * Orders two `metadata.resourceVersion` values of one object, as Kubernetes allows since 1.35
 * (KEP-5504, "comparable resource versions", client-go `CompareResourceVersion`): both must be
 * positive decimal integers without leading zeros, compared by length, then digit by digit.
 * Returns undefined when either is not of that form (another API server): then only equality is known.
 */
export const compareResourceVersion = (a: string, b: string): -1 | 0 | 1 | undefined => {
  if (!COMPARABLE.test(a) || !COMPARABLE.test(b)) return a === b ? 0 : undefined;
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  if (a === b) return 0;
  return a < b ? -1 : 1;
};

const COMPARABLE = /^[1-9][0-9]*$/;

/**
 * True when `candidate` is known to be older than `seen` (strictly). An object whose version cannot be
 * ordered is never called older: it is handled, and detection, being idempotent, absorbs a repeat.
 */
export const isOlderResourceVersion = (candidate: string | undefined, seen: string | undefined): boolean =>
  candidate !== undefined && seen !== undefined && compareResourceVersion(candidate, seen) === -1;
