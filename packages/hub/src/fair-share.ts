/**
 * Max-min fair trimming: how many bytes to remove from each holder so that what they hold together
 * fits `target`, taking from the largest first. Every holder over the level L keeps L, every one
 * under it keeps all it has, so one holder's flood never costs the others anything while it is the
 * largest. Returns the bytes to remove per holder (holders left whole are absent).
 */
export const fairShareTrim = (held: ReadonlyMap<string, number>, target: number): Map<string, number> => {
  const remove = new Map<string, number>();
  let total = 0;
  for (const bytes of held.values()) total += bytes;
  if (total <= target) return remove;
  const sorted = [...held.entries()].sort((a, b) => a[1] - b[1]);
  // Find the level: the smallest holders keep everything while the rest share what is left equally.
  let left = Math.max(0, target);
  let level = 0;
  for (let i = 0; i < sorted.length; i++) {
    const bytes = sorted[i]?.[1] ?? 0;
    const share = left / (sorted.length - i);
    if (bytes <= share) {
      left -= bytes;
      continue;
    }
    level = Math.floor(share);
    break;
  }
  for (const [holder, bytes] of sorted) {
    if (bytes > level) remove.set(holder, bytes - level);
  }
  return remove;
};
