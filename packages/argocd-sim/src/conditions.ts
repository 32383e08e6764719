/** `status.conditions`, as `pkg/apis/application/v1alpha1/types.go` `SetConditions` (2.8-3.x) writes them. */

export interface Condition {
  type: string;
  message: string;
  lastTransitionTime: string;
}

/**
 * Sets (`message`) or clears (`undefined`) the condition of one type: a condition of the same type and
 * message keeps its time, a new or changed one gets `now`; sorted as `SetConditions` sorts them.
 */
export const setCondition = (
  current: readonly Condition[],
  type: string,
  message: string | undefined,
  now: string,
): Condition[] => {
  const others = current.filter((c) => c.type !== type);
  if (message === undefined) return others;
  const same = current.find((c) => c.type === type && c.message === message);
  return [...others, same ?? { type, message, lastTransitionTime: now }].sort((a, b) =>
    `${a.type}/${a.message}`.localeCompare(`${b.type}/${b.message}`),
  );
};
