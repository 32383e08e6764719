/**
 * The ClickHouse data source plugin's expansion of a query's text, for exactly what the dashboards
 * in deploy/grafana use, in the plugin's order (grafana/clickhouse-datasource): the frontend's
 * `$__conditionalAll(condition, $var)` (src/data/CHDatasource.ts applyConditionalAll), then
 * Grafana's template variables with the plugin's formatter (arrays become 'a','b'; `:singlequote`
 * quotes each value), then the backend's macros (pkg/macros/macros.go). A macro or variable not
 * implemented here is an error, so a dashboard cannot use one this test does not understand.
 */

/** A variable's value as Grafana holds it: one value, several, or All (`$__all`). */
export type VariableValue = string | readonly string[];

export interface Expansion {
  /** Template variables: name -> current value, and the options All stands for. */
  readonly variables: ReadonlyMap<string, { value: VariableValue; options: readonly string[] }>;
  /** The dashboard's time range, in milliseconds since the epoch. */
  readonly from: number;
  readonly to: number;
  /** The panel's interval (Grafana derives it from the range and the panel's width). */
  readonly intervalMs: number;
}

export class UnknownMacroError extends Error {
  override name = 'UnknownMacroError';
}

export const ALL = '$__all';

/**
 * The arguments of a call whose `(` is at `open`: split at top-level commas, and the index after
 * its `)`. The plugin's getMacroArgs, which keeps arguments untrimmed.
 */
const callArgs = (text: string, open: number): { args: string[]; end: number } => {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (c === ',' && depth === 1) {
      args.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth === 0) {
      args.push(text.slice(start, i));
      return { args, end: i + 1 };
    }
  }
  throw new UnknownMacroError(`unbalanced parentheses after ${text.slice(open - 20, open + 20)}`);
};

/** `$__conditionalAll(cond, $var)`: `1=1` when the variable is All or empty, else `cond`. */
const conditionalAll = (sql: string, x: Expansion): string => {
  const macro = '$__conditionalAll(';
  let text = sql;
  for (let at = text.lastIndexOf(macro); at !== -1; at = text.lastIndexOf(macro)) {
    const { args, end } = callArgs(text, at + macro.length - 1);
    if (args.length !== 2)
      throw new UnknownMacroError(`$__conditionalAll takes 2 arguments, got ${args.length}`);
    const name = /\$\{(\w+)\}|\$(\w+)/.exec(args[1]!.trim());
    const variableName = name?.[1] ?? name?.[2];
    const variable = variableName === undefined ? undefined : x.variables.get(variableName);
    if (variable === undefined)
      throw new UnknownMacroError(`$__conditionalAll names no known variable: ${args[1]!.trim()}`);
    const current = String(variable.value);
    text = `${text.slice(0, at)}${current === '' || current === ALL ? '1=1' : args[0]}${text.slice(end)}`;
  }
  return text;
};

const valuesOf = (v: { value: VariableValue; options: readonly string[] }): string[] => {
  const values = typeof v.value === 'string' ? [v.value] : [...v.value];
  return values.includes(ALL) ? [...v.options] : values;
};

/** Grafana's templateSrv.replace: `$name`, `${name}`, `${name:format}`; `$__…` is left to the backend. */
const templateVariables = (sql: string, x: Expansion): string =>
  sql.replace(/\$(\w+)|\$\{(\w+)(?::(\w+))?\}/g, (whole, bare?: string, braced?: string, format?: string) => {
    const name = bare ?? braced ?? '';
    if (name.startsWith('__')) return whole;
    const variable = x.variables.get(name);
    if (variable === undefined) throw new UnknownMacroError(`unknown template variable ${whole}`);
    const values = valuesOf(variable);
    const multi = typeof variable.value !== 'string' || variable.value === ALL;
    if (format === 'singlequote') return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    if (format !== undefined)
      throw new UnknownMacroError(`variable format :${format} is not implemented here`);
    // The plugin's formatter: several values quoted and joined, one value as it is.
    return multi ? `'${values.join("','")}'` : (values[0] ?? '');
  });

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The backend's macros (pkg/macros/macros.go), those the dashboards use. */
const MACROS: Readonly<Record<string, { args: number; expand: (args: string[], x: Expansion) => string }>> = {
  timeFilter: {
    args: 1,
    expand: ([c], x) => `${c} >= toDateTime(${seconds(x.from)}) AND ${c} <= toDateTime(${seconds(x.to)})`,
  },
  fromTime: { args: 0, expand: (_, x) => `toDateTime(${seconds(x.from)})` },
  toTime: { args: 0, expand: (_, x) => `toDateTime(${seconds(x.to)})` },
  timeInterval: {
    args: 1,
    expand: ([c], x) =>
      `toStartOfInterval(toDateTime(${c}), INTERVAL ${Math.max(seconds(x.intervalMs), 1)} second)`,
  },
  interval_s: { args: 0, expand: (_, x) => String(Math.max(seconds(x.intervalMs), 1)) },
};

const backendMacros = (sql: string, x: Expansion): string => {
  let out = '';
  let rest = sql;
  for (let m = /\$__(\w+)/.exec(rest); m !== null; m = /\$__(\w+)/.exec(rest)) {
    const name = m[1]!;
    const macro = MACROS[name];
    if (macro === undefined) throw new UnknownMacroError(`unknown macro $__${name}`);
    let after = m.index + m[0].length;
    let args: string[] = [];
    if (rest[after] === '(') {
      const call = callArgs(rest, after);
      // `$__name()` has no arguments, as sqlds reads it.
      args = call.args.map((a) => a.trim()).filter((a, _, all) => !(all.length === 1 && a === ''));
      after = call.end;
    }
    if (args.length !== macro.args)
      throw new UnknownMacroError(`$__${name} takes ${macro.args} argument(s), got ${args.length}`);
    out += rest.slice(0, m.index) + macro.expand(args, x);
    rest = rest.slice(after);
  }
  return out + rest;
};

/** A query's text as the ClickHouse server receives it from the plugin. */
export const expandQuery = (sql: string, x: Expansion): string =>
  backendMacros(templateVariables(conditionalAll(sql, x), x), x);
