/** `parseArgs` values (strings and booleans by flag name) as the flag map `parseOptions` reads. */
export const optionsFromFlags = (
  values: Record<string, unknown>,
): Record<string, string | boolean | undefined> => {
  const flags: Record<string, string | boolean | undefined> = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'string' || typeof value === 'boolean') flags[name] = value;
  }
  return flags;
};
