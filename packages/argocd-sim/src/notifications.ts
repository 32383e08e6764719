import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { Application } from './model.js';

/*
 * Argo CD Notifications, as far as Argus' templates need it: the `argocd-notifications-cm` ConfigMap,
 * trigger conditions (expr-lang subset), Go text/template with the sprig functions the templates call,
 * and the controller's bookkeeping (`oncePer`, edge triggering, the reconciledAt guard).
 *
 * Strings follow Go: they are byte strings (a JS string of one char per byte), so `len`, `substr`,
 * `sha1sum` and `b64dec` behave as in Go. Unknown functions, fields on non-maps and printing a missing
 * value are errors, so a typo in a template fails a test instead of posting `<no value>`.
 */

/** A template does not parse or fails while executing; `reason` says which. */
export class TemplateError extends Error {
  override name = 'TemplateError';
  readonly template: string;
  readonly reason: 'parse' | 'exec';
  constructor(template: string, reason: 'parse' | 'exec', message: string, options?: ErrorOptions) {
    super(`template ${template}: ${message}`, options);
    this.template = template;
    this.reason = reason;
  }
}

/** A trigger condition (expr-lang) does not parse or fails while evaluating. */
export class ExprError extends Error {
  override name = 'ExprError';
  readonly expression: string;
  constructor(expression: string, message: string) {
    super(`expression ${JSON.stringify(expression)}: ${message}`);
    this.expression = expression;
  }
}

/** The ConfigMap does not hold what a notification needs (unknown template, trigger or service). */
export class NotificationsConfigError extends Error {
  override name = 'NotificationsConfigError';
}

// ---------------------------------------------------------------------------------------------
// Go values

type GoMap = { [key: string]: GoValue };
type GoValue = string | number | boolean | null | undefined | GoValue[] | GoMap;

/** UTF-8 text -> Go byte string (one char per byte). */
const toGo = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
/** Go byte string -> UTF-8 text. */
const fromGo = (bytes: string): string => Buffer.from(bytes, 'latin1').toString('utf8');

const deepMap = (value: unknown, f: (s: string) => string): GoValue => {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => deepMap(v, f));
  if (value !== null && typeof value === 'object') {
    const out: GoMap = {};
    for (const [k, v] of Object.entries(value)) out[f(k)] = deepMap(v, f);
    return out;
  }
  return value as GoValue;
};

const isNil = (v: GoValue): v is null | undefined => v === null || v === undefined;
const isMap = (v: GoValue): v is GoMap => v !== null && typeof v === 'object' && !Array.isArray(v);

const typeName = (v: GoValue): string => {
  if (isNil(v)) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  return Array.isArray(v) ? '[]interface {}' : 'map[string]interface {}';
};

/** Go's notion of an empty value (`if`, `with`, `and`, `or`, sprig `default`). */
const truth = (v: GoValue): boolean => {
  if (isNil(v)) return false;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
};

/** fmt's %v. */
const formatValue = (v: GoValue): string => {
  if (isNil(v)) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  return `map[${Object.keys(v)
    .sort()
    .map((k) => `${k}:${formatValue(v[k])}`)
    .join(' ')}]`;
};

/** fmt.Sprint: a space between operands when neither is a string. */
const sprint = (args: GoValue[]): string => {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
};

/** encoding/json.Marshal as sprig's toJson uses it: sorted keys, <, >, & and U+2028/9 escaped. */
const goJson = (v: GoValue): string => {
  const sorted = (x: GoValue): unknown => {
    if (typeof x === 'string') return fromGo(x);
    if (x === undefined) return null;
    if (Array.isArray(x)) return x.map(sorted);
    if (isMap(x)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) out[fromGo(k)] = sorted(x[k]);
      return out;
    }
    return x;
  };
  const text = JSON.stringify(sorted(v)).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return toGo(text);
};

const toInt = (v: GoValue, what: string): number => {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (isNil(v)) return 0;
  throw new Error(`${what}: cannot convert ${typeName(v)} to int`);
};

const needString = (v: GoValue, fn: string): string => {
  if (typeof v !== 'string')
    throw new Error(`${fn}: wrong type for value; expected string; got ${typeName(v)}`);
  return v;
};

/** sprig's strval. */
const strval = (v: GoValue): string => (typeof v === 'string' ? v : formatValue(v));

/** url.QueryEscape over bytes. */
const queryEscape = (s: string): string => {
  let out = '';
  for (const ch of s) {
    if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
};

type Kind = 'bool' | 'int' | 'float' | 'string';
const basicKind = (v: GoValue): Kind | undefined => {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'string';
  return undefined;
};

const goEq = (a: GoValue, b: GoValue): boolean => {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === undefined || kb === undefined) {
    throw new Error(
      `incompatible types for comparison: ${typeName(a)} and ${typeName(b)} (compare basic values only; use default for missing fields)`,
    );
  }
  if (ka !== kb) throw new Error(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
  return a === b;
};

const goLess = (a: GoValue, b: GoValue): boolean => {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === undefined || ka === 'bool' || ka !== kb) {
    throw new Error(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
  }
  return (a as number | string) < (b as number | string);
};

/** Go regexp (RE2) patterns that mean the same in JavaScript; flags groups are refused. */
const goRegex = (pattern: string, flags = ''): RegExp => {
  const text = fromGo(pattern);
  if (/\(\?[a-zA-Z]/.test(text) || text.includes('(?P<')) {
    throw new Error(`regex ${JSON.stringify(text)}: RE2 flag and named groups are not supported here`);
  }
  return new RegExp(text, `u${flags}`);
};

/** Go's Regexp.Expand syntax ($1, ${1}, $$) -> JavaScript's. */
const goReplacement = (repl: string): string =>
  fromGo(repl).replace(/\$\$|\$\{(\d+)\}|\$(\d+)/g, (m, a?: string, b?: string) =>
    m === '$$' ? '$$' : `$${a ?? b}`,
  );

type GoFunction = (...args: GoValue[]) => GoValue;

/** The Go text/template builtins and the sprig functions our templates use, with their Go behaviour. */
const FUNCTIONS: Record<string, GoFunction> = {
  // text/template builtins (and/or are short-circuited by the executor)
  not: (v) => !truth(v),
  len: (v) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (isMap(v)) return Object.keys(v).length;
    throw new Error(isNil(v) ? 'len of nil pointer' : `len of type ${typeName(v)}`);
  },
  index: (item, ...keys) => {
    let cur = item;
    for (const key of keys) {
      if (isNil(cur)) throw new Error('index of untyped nil');
      if (Array.isArray(cur)) {
        const i = toInt(key, 'index');
        if (typeof key !== 'number') throw new Error(`cannot index slice/array with type ${typeName(key)}`);
        if (i < 0 || i >= cur.length) throw new Error(`index out of range: ${i}`);
        cur = cur[i];
      } else if (isMap(cur)) {
        if (typeof key !== 'string') throw new Error(`value has type ${typeName(key)}; should be string`);
        cur = cur[key];
      } else throw new Error(`can't index item of type ${typeName(cur)}`);
    }
    return cur;
  },
  print: (...args) => sprint(args),
  printf: (format, ...args) => {
    const f = needString(format, 'printf');
    let n = 0;
    return f.replace(/%(.?)/g, (_m, verb: string) => {
      if (verb === '%') return '%';
      if (!'sdvq'.includes(verb) || verb === '')
        throw new Error(`printf verb %${verb} is not supported here`);
      if (n >= args.length) return `%!${verb}(MISSING)`;
      const a = args[n++] as GoValue;
      if (verb === 'v') return formatValue(a);
      if (verb === 'd') {
        if (basicKind(a) !== 'int') throw new Error(`printf %d of ${typeName(a)}`);
        return String(a);
      }
      if (verb === 'q') return toGo(JSON.stringify(fromGo(needString(a, 'printf %q'))));
      if (typeof a !== 'string') throw new Error(`printf %s of ${typeName(a)} (Go prints %!s(...))`);
      return a;
    });
  },
  urlquery: (...args) =>
    queryEscape(args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args)),
  eq: (a, ...rest) => {
    if (rest.length === 0) throw new Error('missing argument for comparison');
    return rest.some((b) => goEq(a, b));
  },
  ne: (a, b) => !goEq(a, b),
  lt: (a, b) => goLess(a, b),
  le: (a, b) => goLess(a, b) || goEq(a, b),
  gt: (a, b) => goLess(b, a),
  ge: (a, b) => goLess(b, a) || goEq(a, b),
  // sprig
  default: (def, ...given) =>
    given.length === 0 || !truth(given[0] as GoValue) ? def : (given[0] as GoValue),
  toJson: (v) => goJson(v),
  toString: (v: GoValue) => strval(v),
  b64dec: (s) => {
    const text = needString(s, 'b64dec');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return 'illegal base64 data';
    return Buffer.from(text, 'base64').toString('latin1');
  },
  sha1sum: (s) =>
    createHash('sha1')
      .update(Buffer.from(needString(s, 'sha1sum'), 'latin1'))
      .digest('hex'),
  substr: (start, end, s) => {
    const text = needString(s, 'substr');
    const a = toInt(start, 'substr');
    const b = toInt(end, 'substr');
    if (a < 0) return text.slice(0, b);
    if (b < 0 || b > text.length) return text.slice(a);
    return text.slice(a, b);
  },
  dict: (...pairs) => {
    const out: GoMap = {};
    for (let i = 0; i < pairs.length; i += 2) out[strval(pairs[i] as GoValue)] = pairs[i + 1] ?? '';
    return out;
  },
  list: (...items) => items,
  append: (list, v) => {
    if (!Array.isArray(list)) throw new Error(`Cannot push on type ${typeName(list)}`);
    return [...list, v];
  },
  last: (list) => {
    if (!Array.isArray(list)) throw new Error(`Cannot find last on type ${typeName(list)}`);
    return list.length === 0 ? null : list[list.length - 1];
  },
  join: (sep, v) => {
    const items = Array.isArray(v) ? v.filter((x) => !isNil(x)).map(strval) : isNil(v) ? [] : [strval(v)];
    return items.join(needString(sep, 'join'));
  },
  lower: (s) => toGo(fromGo(needString(s, 'lower')).toLowerCase()),
  trimSuffix: (suffix, s) => {
    const text = needString(s, 'trimSuffix');
    const end = needString(suffix, 'trimSuffix');
    return end !== '' && text.endsWith(end) ? text.slice(0, -end.length) : text;
  },
  sub: (a, b) => toInt(a, 'sub') - toInt(b, 'sub'),
  splitList: (sep, s) => needString(s, 'splitList').split(needString(sep, 'splitList')),
  regexReplaceAll: (regex, s, repl) =>
    toGo(
      fromGo(needString(s, 'regexReplaceAll')).replace(
        goRegex(needString(regex, 'regexReplaceAll'), 'g'),
        goReplacement(needString(repl, 'regexReplaceAll')),
      ),
    ),
  regexSplit: (regex, s, n) => {
    const parts = fromGo(needString(s, 'regexSplit'))
      .split(goRegex(needString(regex, 'regexSplit')))
      .map(toGo);
    const limit = toInt(n, 'regexSplit');
    if (limit === 0) return [];
    return limit < 0 || parts.length <= limit
      ? parts
      : [...parts.slice(0, limit - 1), parts.slice(limit - 1).join('')];
  },
};

/** Names of the functions templates may call (Go builtins plus the sprig functions implemented here). */
export const TEMPLATE_FUNCTIONS: readonly string[] = ['and', 'or', ...Object.keys(FUNCTIONS)].sort();

// ---------------------------------------------------------------------------------------------
// Go text/template: lexer and parser

type Token =
  | { t: 'field'; path: string[]; glued: boolean }
  | { t: 'var'; name: string; path: string[] }
  | { t: 'ident'; name: string }
  | { t: 'string'; value: string }
  | { t: 'number'; value: number }
  | { t: 'bool'; value: boolean }
  | { t: 'nil' }
  | { t: '(' | ')' | '|' | ',' | ':=' | '=' };

type Operand =
  | { k: 'field'; path: string[] }
  | { k: 'var'; name: string; path: string[] }
  | { k: 'fn'; name: string }
  | { k: 'lit'; value: GoValue }
  | { k: 'pipe'; pipe: Pipeline; path: string[] };

interface Pipeline {
  readonly decl: { readonly names: string[]; readonly assign: boolean } | undefined;
  readonly commands: Operand[][];
  readonly text: string;
}

type Node =
  | { n: 'text'; text: string }
  | { n: 'action'; pipe: Pipeline }
  | { n: 'if' | 'with' | 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] };

type Segment = { s: 'text'; text: string } | { s: 'action'; tokens: Token[]; text: string; at: number };

const KEYWORDS = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
]);
const SPACE = /[ \t\r\n]/;

const lexAction = (src: string, start: number, name: string): { tokens: Token[]; end: number } => {
  const tokens: Token[] = [];
  let i = start;
  const fail = (msg: string): never => {
    throw new TemplateError(name, 'parse', `${msg} at offset ${i}`);
  };
  const ident = () => {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    return m?.[0] ?? '';
  };
  const fieldChain = (): string[] => {
    const path: string[] = [];
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      i++;
      const id = ident();
      path.push(id);
      i += id.length;
    }
    return path;
  };
  let spaced = true;
  for (;;) {
    if (i >= src.length) fail('unclosed action');
    const c = src[i] as string;
    if (SPACE.test(c)) {
      if (src[i + 1] === '-' && src.startsWith('}}', i + 2)) return { tokens, end: i + 4 };
      i++;
      spaced = true;
      continue;
    }
    if (src.startsWith('}}', i)) return { tokens, end: i + 2 };
    const wasSpaced = spaced;
    spaced = false;
    if (c === '"') {
      let j = i + 1;
      let raw = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\n') fail('newline in string');
        if (src[j] === '\\') {
          const e = src[j + 1] ?? '';
          const simple: Record<string, string> = {
            n: '\n',
            t: '\t',
            r: '\r',
            '\\': '\\',
            '"': '"',
            "'": "'",
          };
          if (e in simple) {
            raw += simple[e];
            j += 2;
          } else if (e === 'x') {
            raw += String.fromCharCode(Number.parseInt(src.slice(j + 2, j + 4), 16));
            j += 4;
          } else fail(`unsupported escape \\${e}`);
        } else raw += src[j++];
      }
      if (j >= src.length) fail('unterminated string');
      tokens.push({ t: 'string', value: raw });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) fail('unterminated raw string');
      tokens.push({ t: 'string', value: src.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '.') {
      if (/[A-Za-z_]/.test(src[i + 1] ?? ''))
        tokens.push({ t: 'field', path: fieldChain(), glued: !wasSpaced });
      else {
        i++;
        tokens.push({ t: 'field', path: [], glued: !wasSpaced });
      }
    } else if (c === '$') {
      i++;
      const id = ident();
      i += id.length;
      tokens.push({ t: 'var', name: `$${id}`, path: fieldChain() });
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(src.slice(i));
      if (m === null) fail(`unexpected ${JSON.stringify(c)}`);
      tokens.push({ t: 'number', value: Number(m?.[0]) });
      i += m?.[0].length ?? 1;
    } else if (src.startsWith(':=', i)) {
      tokens.push({ t: ':=' });
      i += 2;
    } else if ('()|,='.includes(c)) {
      tokens.push({ t: c as '(' | ')' | '|' | ',' | '=' });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const id = ident();
      i += id.length;
      if (id === 'true' || id === 'false') tokens.push({ t: 'bool', value: id === 'true' });
      else if (id === 'nil') tokens.push({ t: 'nil' });
      else tokens.push({ t: 'ident', name: id });
    } else fail(`unexpected ${JSON.stringify(c)}`);
  }
};

const segment = (src: string, name: string): Segment[] => {
  const out: Segment[] = [];
  let i = 0;
  let trimNext = false;
  while (i <= src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    if (open < 0) {
      if (text !== '') out.push({ s: 'text', text });
      break;
    }
    let start = open + 2;
    if (src[start] === '-' && SPACE.test(src[start + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      start += 2;
    }
    if (text !== '') out.push({ s: 'text', text });
    const body = src.slice(start).replace(/^[ \t\r\n]*/, '');
    if (body.startsWith('/*')) {
      const close = src.indexOf('*/', start);
      if (close < 0) throw new TemplateError(name, 'parse', 'unclosed comment');
      const rest = src.slice(close + 2);
      const m = /^([ \t\r\n]+-)?}}/.exec(rest);
      if (m === null) throw new TemplateError(name, 'parse', 'comment ends without }}');
      trimNext = m[1] !== undefined;
      i = close + 2 + m[0].length;
      continue;
    }
    const { tokens, end } = lexAction(src, start, name);
    trimNext = src.slice(end - 4, end) !== '' && /[ \t\r\n]-}}$/.test(src.slice(end - 4, end));
    out.push({ s: 'action', tokens, text: src.slice(open, end), at: open });
    i = end;
  }
  return out;
};

class TemplateParser {
  #segments: Segment[];
  #pos = 0;
  readonly #name: string;
  constructor(segments: Segment[], name: string) {
    this.#segments = segments;
    this.#name = name;
  }

  #fail(message: string, seg?: Segment): never {
    const where = seg?.s === 'action' ? ` in ${seg.text}` : '';
    throw new TemplateError(this.#name, 'parse', `${message}${where}`);
  }

  parse(): Node[] {
    const { nodes, stop } = this.#list();
    if (stop !== undefined) this.#fail(`unexpected {{${stop}}}`);
    return nodes;
  }

  /** Nodes up to an `end` or `else` (returned in `stop`, with the tokens after `else`). */
  #list(): { nodes: Node[]; stop: 'end' | 'else' | undefined; rest: Token[]; seg?: Segment } {
    const nodes: Node[] = [];
    while (this.#pos < this.#segments.length) {
      const seg = this.#segments[this.#pos++] as Segment;
      if (seg.s === 'text') {
        nodes.push({ n: 'text', text: seg.text });
        continue;
      }
      const [first, ...rest] = seg.tokens;
      if (first?.t === 'ident' && KEYWORDS.has(first.name)) {
        const kw = first.name;
        if (kw === 'end' || kw === 'else') return { nodes, stop: kw, rest, seg };
        if (kw === 'if' || kw === 'with' || kw === 'range') {
          nodes.push(this.#control(kw, rest, seg));
          continue;
        }
        this.#fail(`{{${kw}}} is not supported by this renderer`, seg);
      }
      if (seg.tokens.length === 0) this.#fail('missing value for command', seg);
      nodes.push({ n: 'action', pipe: this.#pipeline(seg.tokens, seg) });
    }
    return { nodes, stop: undefined, rest: [] };
  }

  #control(kw: 'if' | 'with' | 'range', tokens: Token[], seg: Segment): Node {
    const pipe = this.#pipeline(tokens, seg, kw === 'range');
    const body = this.#list();
    if (body.stop === undefined) this.#fail(`unexpected EOF: {{${kw}}} without {{end}}`, seg);
    let otherwise: Node[] = [];
    if (body.stop === 'else') {
      const [next, ...after] = body.rest;
      if (next?.t === 'ident' && (next.name === 'if' || next.name === 'with') && kw !== 'range') {
        // `else if` / `else with`: a nested control structure sharing this one's {{end}}.
        otherwise = [this.#control(next.name, after, body.seg ?? seg)];
      } else {
        if (body.rest.length > 0) this.#fail('unexpected tokens after else', body.seg);
        const tail = this.#list();
        if (tail.stop !== 'end') this.#fail(`{{${kw}}} {{else}} without {{end}}`, seg);
        otherwise = tail.nodes;
      }
    } else if (body.rest.length > 0) this.#fail('unexpected tokens after end', body.seg);
    return { n: kw, pipe, body: body.nodes, otherwise };
  }

  #pipeline(tokens: Token[], seg: Segment, allowTwo = false): Pipeline {
    let i = 0;
    let decl: Pipeline['decl'];
    const declTarget = tokens.findIndex((t) => t.t === ':=' || t.t === '=');
    if (declTarget > 0 && tokens.slice(0, declTarget).every((t) => t.t === 'var' || t.t === ',')) {
      const names = tokens
        .slice(0, declTarget)
        .filter((t): t is Extract<Token, { t: 'var' }> => t.t === 'var')
        .map((t) => t.name);
      if (names.length > (allowTwo ? 2 : 1)) this.#fail('too many declarations', seg);
      decl = { names, assign: tokens[declTarget]?.t === '=' };
      i = declTarget + 1;
    }
    const commands: Operand[][] = [];
    let command: Operand[] = [];
    const finish = () => {
      if (command.length === 0) this.#fail('missing command in pipeline', seg);
      commands.push(command);
      command = [];
    };
    while (i < tokens.length) {
      const tok = tokens[i] as Token;
      if (tok.t === '|') {
        finish();
        i++;
        continue;
      }
      const { operand, next } = this.#operand(tokens, i, seg);
      command.push(operand);
      i = next;
    }
    finish();
    const text = seg.s === 'action' ? seg.text : '';
    return { decl, commands, text };
  }

  #operand(tokens: Token[], i: number, seg: Segment): { operand: Operand; next: number } {
    const tok = tokens[i] as Token;
    switch (tok.t) {
      case 'field':
        return { operand: { k: 'field', path: tok.path }, next: i + 1 };
      case 'var':
        return { operand: { k: 'var', name: tok.name, path: tok.path }, next: i + 1 };
      case 'string':
        return { operand: { k: 'lit', value: tok.value }, next: i + 1 };
      case 'number':
        return { operand: { k: 'lit', value: tok.value }, next: i + 1 };
      case 'bool':
        return { operand: { k: 'lit', value: tok.value }, next: i + 1 };
      case 'nil':
        return { operand: { k: 'lit', value: null }, next: i + 1 };
      case 'ident':
        if (KEYWORDS.has(tok.name)) this.#fail(`unexpected keyword ${tok.name}`, seg);
        if (tok.name !== 'and' && tok.name !== 'or' && !Object.hasOwn(FUNCTIONS, tok.name)) {
          this.#fail(`function "${tok.name}" not defined`, seg);
        }
        return { operand: { k: 'fn', name: tok.name }, next: i + 1 };
      case '(': {
        let depth = 1;
        let j = i + 1;
        while (j < tokens.length && depth > 0) {
          const t = tokens[j]?.t;
          if (t === '(') depth++;
          if (t === ')') depth--;
          j++;
        }
        if (depth !== 0) this.#fail('unclosed left paren', seg);
        const inner = this.#pipeline(tokens.slice(i + 1, j - 1), seg);
        let path: string[] = [];
        const after = tokens[j];
        if (after?.t === 'field' && after.glued && after.path.length > 0) {
          path = after.path;
          j++;
        }
        return { operand: { k: 'pipe', pipe: inner, path }, next: j };
      }
      default:
        return this.#fail(`unexpected ${JSON.stringify(tok.t)} in operand`, seg);
    }
  }
}

/** A parsed Go text/template. */
export class GoTemplate {
  readonly name: string;
  /** The template text, as written (for a check against the real engine). */
  readonly source: string;
  readonly #nodes: Node[];

  constructor(name: string, source: string) {
    this.name = name;
    this.source = source;
    this.#nodes = new TemplateParser(segment(toGo(source), name), name).parse();
  }

  /**
   * Executes the template on `data` (plain JSON: maps, arrays, strings, numbers). Missing map keys
   * are nil as in Go; printing nil is an error here (Go would print `<no value>`).
   */
  execute(data: unknown): string {
    const root = deepMap(data, toGo);
    const out: string[] = [];
    const scopes: Map<string, GoValue>[] = [new Map([['$', root]])];
    try {
      this.#run(this.#nodes, root, scopes, out);
    } catch (error) {
      if (error instanceof TemplateError) throw error;
      throw new TemplateError(this.name, 'exec', (error as Error).message, { cause: error });
    }
    return fromGo(out.join(''));
  }

  #run(nodes: readonly Node[], dot: GoValue, scopes: Map<string, GoValue>[], out: string[]): void {
    for (const node of nodes) {
      if (node.n === 'text') {
        out.push(node.text);
        continue;
      }
      if (node.n === 'action') {
        const value = this.#pipe(node.pipe, dot, scopes);
        if (node.pipe.decl === undefined) {
          if (isNil(value)) {
            throw new TemplateError(
              this.name,
              'exec',
              `${fromGo(node.pipe.text)} is a missing value (Go would print <no value>)`,
            );
          }
          out.push(formatValue(value));
        }
        continue;
      }
      scopes.push(new Map());
      try {
        if (node.n === 'range') {
          const decl = node.pipe.decl;
          const value = this.#pipe({ ...node.pipe, decl: undefined }, dot, scopes);
          const entries: [GoValue, GoValue][] = Array.isArray(value)
            ? value.map((v, i) => [i, v])
            : isMap(value)
              ? Object.keys(value)
                  .sort()
                  .map((k) => [k, value[k]])
              : isNil(value)
                ? []
                : this.#rangeError(value, node.pipe);
          if (entries.length === 0) this.#run(node.otherwise, dot, scopes, out);
          for (const [key, elem] of entries) {
            const scope = scopes[scopes.length - 1] as Map<string, GoValue>;
            const names = decl?.names ?? [];
            if (names.length === 1) scope.set(names[0] as string, elem);
            if (names.length === 2) {
              scope.set(names[0] as string, key);
              scope.set(names[1] as string, elem);
            }
            scopes.push(new Map());
            this.#run(node.body, elem, scopes, out);
            scopes.pop();
          }
        } else {
          const value = this.#pipe(node.pipe, dot, scopes);
          if (truth(value)) this.#run(node.body, node.n === 'with' ? value : dot, scopes, out);
          else this.#run(node.otherwise, dot, scopes, out);
        }
      } finally {
        scopes.pop();
      }
    }
  }

  #rangeError(value: GoValue, pipe: Pipeline): never {
    throw new TemplateError(
      this.name,
      'exec',
      `range can't iterate over ${typeName(value)} in ${fromGo(pipe.text)}`,
    );
  }

  #pipe(pipe: Pipeline, dot: GoValue, scopes: Map<string, GoValue>[]): GoValue {
    let value: GoValue;
    let first = true;
    for (const command of pipe.commands) {
      value = this.#command(command, dot, scopes, first ? [] : [value]);
      first = false;
    }
    if (pipe.decl !== undefined) {
      const name = pipe.decl.names[0] as string;
      if (pipe.decl.assign) {
        const scope = [...scopes].reverse().find((s) => s.has(name));
        if (scope === undefined) throw new Error(`undefined variable: ${name}`);
        scope.set(name, value);
      } else (scopes[scopes.length - 1] as Map<string, GoValue>).set(name, value);
    }
    return value;
  }

  #command(command: Operand[], dot: GoValue, scopes: Map<string, GoValue>[], piped: GoValue[]): GoValue {
    const [head, ...args] = command as [Operand, ...Operand[]];
    if (head.k !== 'fn') {
      if (args.length > 0 || piped.length > 0) throw new Error("can't give argument to non-function");
      return this.#operand(head, dot, scopes);
    }
    if (head.name === 'and' || head.name === 'or') {
      const all = [...args.map((a) => () => this.#operand(a, dot, scopes)), ...piped.map((p) => () => p)];
      if (all.length === 0) throw new Error(`wrong number of args for ${head.name}: want at least 1 got 0`);
      let v: GoValue;
      for (const get of all) {
        v = get();
        if (head.name === 'and' ? !truth(v) : truth(v)) return v;
      }
      return v;
    }
    const fn = FUNCTIONS[head.name] as GoFunction;
    const values = [...args.map((a) => this.#operand(a, dot, scopes)), ...piped];
    try {
      return fn(...values);
    } catch (error) {
      throw new Error(`error calling ${head.name}: ${(error as Error).message}`, { cause: error });
    }
  }

  #operand(op: Operand, dot: GoValue, scopes: Map<string, GoValue>[]): GoValue {
    switch (op.k) {
      case 'lit':
        return op.value;
      case 'field':
        return this.#fields(dot, op.path, '');
      case 'var': {
        const scope = [...scopes].reverse().find((s) => s.has(op.name));
        if (scope === undefined) throw new TemplateError(this.name, 'exec', `undefined variable: ${op.name}`);
        return this.#fields(scope.get(op.name), op.path, op.name);
      }
      case 'pipe':
        return this.#fields(this.#pipe(op.pipe, dot, scopes), op.path, '(...)');
      case 'fn':
        return this.#command([op], dot, scopes, []);
    }
  }

  #fields(start: GoValue, path: readonly string[], prefix: string): GoValue {
    let cur = start;
    let where = prefix;
    for (const key of path) {
      // As Go's text/template (exec.go evalField): a key missing from a map gives no value, and a field
      // of no value is no value again; a field of a value that is there but nil (JSON null) fails.
      if (cur === undefined) return undefined;
      if (cur === null) throw new Error(`nil pointer evaluating interface {}.${key} (at ${where}.${key})`);
      if (!isMap(cur))
        throw new Error(`can't evaluate field ${key} in type ${typeName(cur)} (at ${where}.${key})`);
      cur = cur[toGo(key)];
      where = `${where}.${key}`;
    }
    return cur;
  }
}

// ---------------------------------------------------------------------------------------------
// expr-lang (trigger conditions): the subset Argo CD triggers use

type ExprNode =
  | { e: 'lit'; value: unknown }
  | { e: 'name'; name: string }
  | { e: 'member'; object: ExprNode; key: ExprNode; optional: boolean }
  | { e: 'call'; name: string; args: ExprNode[] }
  | { e: 'array'; items: ExprNode[] }
  | { e: 'unary'; op: string; arg: ExprNode }
  | { e: 'binary'; op: string; left: ExprNode; right: ExprNode }
  | { e: 'cond'; test: ExprNode; then: ExprNode; otherwise: ExprNode };

const BINARY: Record<string, number> = {
  or: 10,
  '||': 10,
  and: 15,
  '&&': 15,
  '==': 20,
  '!=': 20,
  '<': 20,
  '>': 20,
  '<=': 20,
  '>=': 20,
  in: 20,
  'not in': 20,
  '+': 30,
  '-': 30,
  '*': 60,
  '/': 60,
  '%': 60,
};

const exprTokens = (src: string): string[] => {
  const re =
    /\s*(?:(\d+(?:\.\d+)?)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(\?\.|==|!=|<=|>=|&&|\|\||[()[\],.<>!+\-*/%?:])|([A-Za-z_$][A-Za-z0-9_$]*))/y;
  const out: string[] = [];
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  while (re.lastIndex < src.length) {
    const at = re.lastIndex;
    m = re.exec(src);
    if (m === null) {
      if (/^\s*$/.test(src.slice(at))) break;
      throw new ExprError(src, `unexpected ${JSON.stringify(src.slice(at).trim()[0])} at ${at}`);
    }
    const tok = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (tok !== undefined) out.push(tok);
  }
  return out;
};

const parseExpr = (src: string): ExprNode => {
  const toks = exprTokens(src);
  let i = 0;
  const peek = () => toks[i];
  const fail = (msg: string): never => {
    throw new ExprError(src, msg);
  };
  const expect = (t: string) => {
    if (toks[i] !== t) fail(`expected ${t}, got ${toks[i] ?? 'end'}`);
    i++;
  };
  const binaryOp = (): string | undefined => {
    const t = peek();
    if (t === 'not' && toks[i + 1] === 'in') return 'not in';
    return t !== undefined && Object.hasOwn(BINARY, t) ? t : undefined;
  };
  // `test ? a : b`, expr's conditional: the lowest precedence, right-associative.
  const conditional = (): ExprNode => {
    const test = expression(0);
    if (peek() !== '?') return test;
    i++;
    const then = conditional();
    expect(':');
    return { e: 'cond', test, then, otherwise: conditional() };
  };
  const expression = (minPrec: number): ExprNode => {
    let left = unary();
    for (;;) {
      const op = binaryOp();
      if (op === undefined) break;
      const prec = BINARY[op] as number;
      if (prec < minPrec) break;
      i += op === 'not in' ? 2 : 1;
      const right = expression(prec + 1);
      left = { e: 'binary', op, left, right };
    }
    return left;
  };
  const unary = (): ExprNode => {
    const t = peek();
    if (t === 'not' || t === '!' || t === '-') {
      i++;
      return { e: 'unary', op: t === '-' ? '-' : 'not', arg: t === '-' ? unary() : expression(50) };
    }
    return postfix(primary());
  };
  const primary = (): ExprNode => {
    const t = toks[i++];
    if (t === undefined) return fail('unexpected end');
    if (t === '(') {
      const e = conditional();
      expect(')');
      return e;
    }
    if (t === '[') {
      const items: ExprNode[] = [];
      while (peek() !== ']') {
        items.push(conditional());
        if (peek() === ',') i++;
        else if (peek() !== ']') fail(`expected , or ] in array, got ${peek() ?? 'end'}`);
      }
      i++;
      return { e: 'array', items };
    }
    if (/^\d/.test(t)) return { e: 'lit', value: Number(t) };
    if (t.startsWith("'") || t.startsWith('"')) {
      const body = t.slice(1, -1).replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t' })[c] ?? c);
      return { e: 'lit', value: body };
    }
    if (t === 'nil') return { e: 'lit', value: null };
    if (t === 'true' || t === 'false') return { e: 'lit', value: t === 'true' };
    if (/^[A-Za-z_$]/.test(t)) {
      if (peek() === '(') {
        i++;
        const args: ExprNode[] = [];
        while (peek() !== ')') {
          args.push(conditional());
          if (peek() === ',') i++;
          else if (peek() !== ')') fail(`expected , or ) in call, got ${peek() ?? 'end'}`);
        }
        i++;
        return { e: 'call', name: t, args };
      }
      return { e: 'name', name: t };
    }
    return fail(`unexpected ${t}`);
  };
  const postfix = (node: ExprNode): ExprNode => {
    let cur = node;
    for (;;) {
      const t = peek();
      if (t === '.' || t === '?.') {
        i++;
        const key = toks[i++];
        if (key === undefined || !/^[A-Za-z_$]/.test(key)) fail(`expected a field name after ${t}`);
        cur = { e: 'member', object: cur, key: { e: 'lit', value: key }, optional: t === '?.' };
      } else if (t === '[') {
        i++;
        const key = conditional();
        expect(']');
        cur = { e: 'member', object: cur, key, optional: false };
      } else return cur;
    }
  };
  const tree = conditional();
  if (i < toks.length) fail(`unexpected ${toks[i]} after the expression`);
  return tree;
};

const exprEqual = (a: unknown, b: unknown): boolean => {
  if (a === undefined) return exprEqual(null, b);
  if (b === undefined) return exprEqual(a, null);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => exprEqual(x, b[i]));
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => exprEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return a === b;
};

const EXPR_FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  len: (v) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (v !== null && typeof v === 'object') return Object.keys(v).length;
    throw new Error(`invalid argument for len (type ${v === null || v === undefined ? '<nil>' : typeof v})`);
  },
};

const evalExpr = (node: ExprNode, env: Record<string, unknown>, src: string): unknown => {
  const ev = (n: ExprNode) => evalExpr(n, env, src);
  const fail = (msg: string): never => {
    throw new ExprError(src, msg);
  };
  switch (node.e) {
    case 'lit':
      return node.value;
    case 'name':
      if (!Object.hasOwn(env, node.name)) fail(`unknown name ${node.name}`);
      return env[node.name];
    case 'array':
      return node.items.map(ev);
    case 'call': {
      const fn = Object.hasOwn(EXPR_FUNCTIONS, node.name) ? EXPR_FUNCTIONS[node.name] : undefined;
      if (fn === undefined) return fail(`unknown function ${node.name}`);
      try {
        return fn(...node.args.map(ev));
      } catch (error) {
        return fail((error as Error).message);
      }
    }
    case 'member': {
      const object = ev(node.object);
      const key = ev(node.key);
      if (object === null || object === undefined) {
        if (node.optional) return null;
        return fail(`cannot fetch ${String(key)} from <nil>`);
      }
      if (Array.isArray(object)) {
        if (typeof key !== 'number' || !Number.isInteger(key))
          return fail(`cannot index an array with ${String(key)}`);
        const index = key < 0 ? object.length + key : key;
        if (index < 0 || index >= object.length)
          return fail(`index out of range: ${key} (array of length ${object.length})`);
        return object[index];
      }
      if (typeof object === 'object') {
        const value = (object as Record<string, unknown>)[String(key)];
        return value === undefined ? null : value;
      }
      return fail(`cannot fetch ${String(key)} from ${typeof object}`);
    }
    case 'cond': {
      const test = ev(node.test);
      if (typeof test !== 'boolean') fail(`non-bool expression (type ${typeof test}) used as condition`);
      return ev(test ? node.then : node.otherwise);
    }
    case 'unary': {
      const v = ev(node.arg);
      if (node.op === 'not') {
        if (typeof v !== 'boolean') fail(`invalid operation: not ${typeof v}`);
        return !v;
      }
      if (typeof v !== 'number') fail(`invalid operation: - ${typeof v}`);
      return -(v as number);
    }
    case 'binary': {
      const { op } = node;
      if (op === 'and' || op === '&&' || op === 'or' || op === '||') {
        const l = ev(node.left);
        if (typeof l !== 'boolean') fail(`invalid operation: ${op} on ${typeof l}`);
        if ((op === 'and' || op === '&&') && !l) return false;
        if ((op === 'or' || op === '||') && l) return true;
        const r = ev(node.right);
        if (typeof r !== 'boolean') fail(`invalid operation: ${op} on ${typeof r}`);
        return r;
      }
      const l = ev(node.left);
      const r = ev(node.right);
      switch (op) {
        case '==':
          return exprEqual(l, r);
        case '!=':
          return !exprEqual(l, r);
        case 'in':
        case 'not in': {
          let found: boolean;
          if (Array.isArray(r)) found = r.some((x) => exprEqual(x, l));
          else if (r !== null && typeof r === 'object') found = String(l) in r;
          else return fail(`operator in not defined on ${r === null ? 'nil' : typeof r}`);
          return op === 'in' ? found : !found;
        }
        default: {
          const bothNumbers = typeof l === 'number' && typeof r === 'number';
          const bothStrings = typeof l === 'string' && typeof r === 'string';
          if (!bothNumbers && !(bothStrings && (op === '+' || ['<', '>', '<=', '>='].includes(op)))) {
            return fail(`invalid operation: ${typeof l} ${op} ${typeof r}`);
          }
          const a = l as number;
          const b = r as number;
          if (op === '<') return a < b;
          if (op === '>') return a > b;
          if (op === '<=') return a <= b;
          if (op === '>=') return a >= b;
          if (op === '+') return (a as unknown as string) + (b as unknown as string);
          if (op === '-') return a - b;
          if (op === '*') return a * b;
          if (op === '/') return a / b;
          return a % b;
        }
      }
    }
  }
};

/**
 * A value as Go's `fmt.Sprintf("%v", v)` prints what expr returns (notifications-engine
 * `triggers/service.go` keys `oncePer` state so): nil as `<nil>`, lists as `[a b]`, maps as
 * `map[k:v]` with sorted keys (fmt sorts map keys), whole floats without a decimal point.
 */
export const goFormat = (value: unknown): string => {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goFormat).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `map[${entries.map(([k, v]) => `${k}:${goFormat(v)}`).join(' ')}]`;
  }
  return String(value);
};

/** A compiled trigger condition or `oncePer` expression. */
export class Expression {
  readonly source: string;
  readonly #tree: ExprNode;
  constructor(source: string) {
    this.source = source;
    this.#tree = parseExpr(source);
  }
  evaluate(env: Record<string, unknown>): unknown {
    return evalExpr(this.#tree, env, this.source);
  }
}

// ---------------------------------------------------------------------------------------------
// argocd-notifications-cm

export interface WebhookTemplate {
  readonly method: string;
  readonly path: GoTemplate | undefined;
  readonly body: GoTemplate;
}

export interface NotificationTemplate {
  readonly name: string;
  /** `webhook.<service>` entries. */
  readonly webhook: ReadonlyMap<string, WebhookTemplate>;
}

export interface TriggerCondition {
  readonly description: string;
  readonly when: Expression;
  readonly oncePer: Expression | undefined;
  readonly send: readonly string[];
}

export interface WebhookService {
  readonly name: string;
  readonly url: string;
  readonly headers: readonly { readonly name: string; readonly value: string }[];
}

export interface Subscription {
  readonly recipients: readonly string[];
  readonly triggers: readonly string[];
}

export interface NotificationsConfig {
  readonly context: Readonly<Record<string, string>>;
  readonly templates: ReadonlyMap<string, NotificationTemplate>;
  readonly triggers: ReadonlyMap<string, readonly TriggerCondition[]>;
  readonly services: ReadonlyMap<string, WebhookService>;
  readonly subscriptions: readonly Subscription[];
}

const asRecord = (value: unknown, where: string): Record<string, unknown> => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new NotificationsConfigError(`${where} must be a YAML mapping`);
  }
  return value as Record<string, unknown>;
};

/**
 * Reads an `argocd-notifications-cm` ConfigMap (YAML text): context, `service.webhook.*`,
 * `template.*` (webhook bodies compiled), `trigger.*` (conditions compiled) and `subscriptions`.
 * Templates and conditions that do not parse fail here, naming the key.
 */
export const parseNotificationsConfigMap = (yamlText: string): NotificationsConfig => {
  const cm = asRecord(parseYaml(yamlText), 'the ConfigMap');
  const data = asRecord(cm.data ?? {}, 'data');
  const context: Record<string, string> = {};
  const templates = new Map<string, NotificationTemplate>();
  const triggers = new Map<string, TriggerCondition[]>();
  const services = new Map<string, WebhookService>();
  let subscriptions: Subscription[] = [];
  for (const [key, raw] of Object.entries(data)) {
    if (typeof raw !== 'string') throw new NotificationsConfigError(`data.${key} must be a string`);
    if (key === 'context') {
      for (const [k, v] of Object.entries(asRecord(parseYaml(raw) ?? {}, 'data.context')))
        context[k] = String(v);
    } else if (key === 'subscriptions') {
      subscriptions = (parseYaml(raw) as Subscription[]) ?? [];
    } else if (key.startsWith('service.webhook.')) {
      const name = key.slice('service.webhook.'.length);
      const spec = asRecord(parseYaml(raw), `data.${key}`);
      services.set(name, {
        name,
        url: String(spec.url ?? ''),
        headers: ((spec.headers as { name: string; value: string }[] | undefined) ?? []).map((h) => ({
          name: String(h.name),
          value: String(h.value),
        })),
      });
    } else if (key.startsWith('template.')) {
      const name = key.slice('template.'.length);
      const spec = asRecord(parseYaml(raw), `data.${key}`);
      const webhook = new Map<string, WebhookTemplate>();
      for (const [service, w] of Object.entries(asRecord(spec.webhook ?? {}, `data.${key}.webhook`))) {
        const hook = asRecord(w, `data.${key}.webhook.${service}`);
        webhook.set(service, {
          method: String(hook.method ?? 'GET'),
          path:
            typeof hook.path === 'string' ? new GoTemplate(`${name}.${service}.path`, hook.path) : undefined,
          body: new GoTemplate(`${name}.${service}.body`, String(hook.body ?? '')),
        });
      }
      templates.set(name, { name, webhook });
    } else if (key.startsWith('trigger.')) {
      const name = key.slice('trigger.'.length);
      const list = parseYaml(raw) as {
        description?: string;
        when: string;
        oncePer?: string;
        send: string[];
      }[];
      if (!Array.isArray(list))
        throw new NotificationsConfigError(`data.${key} must be a list of conditions`);
      triggers.set(
        name,
        list.map((c) => ({
          description: c.description ?? '',
          when: new Expression(c.when),
          oncePer: c.oncePer === undefined ? undefined : new Expression(c.oncePer),
          send: c.send,
        })),
      );
    }
  }
  for (const [name, conditions] of triggers) {
    for (const c of conditions) {
      for (const t of c.send) {
        if (!templates.has(t))
          throw new NotificationsConfigError(`trigger ${name} sends unknown template ${t}`);
      }
    }
  }
  return { context, templates, triggers, services, subscriptions };
};

export const loadNotificationsConfigMap = async (file: string): Promise<NotificationsConfig> =>
  parseNotificationsConfigMap(await readFile(file, 'utf8'));

/**
 * The subscription `deploy/argocd-notifications/subscribe.sh` adds beside the user's own: every
 * trigger the ConfigMap defines, to one webhook service. The shipped ConfigMaps carry no
 * `subscriptions` key, since a merge patch would replace the user's.
 */
export const subscribeEveryApp = (config: NotificationsConfig, service = 'argus'): NotificationsConfig => ({
  ...config,
  subscriptions: [...config.subscriptions, { recipients: [service], triggers: [...config.triggers.keys()] }],
});

/** What Argo CD would send to one webhook service for one template. */
export interface RenderedNotification {
  readonly trigger: string | undefined;
  readonly template: string;
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

/** The template variables Argo CD gives a notification: `.app`, `.context` (with `notificationType`), `.serviceType`, `.recipient`. */
export const templateVars = (
  config: NotificationsConfig,
  app: Application | Record<string, unknown>,
  service: string,
  recipient = '',
): Record<string, unknown> => ({
  app,
  context: { argocdUrl: 'https://localhost:4000', ...config.context, notificationType: service },
  serviceType: 'webhook',
  recipient,
});

/** Renders one template for one webhook service (default: the template's only webhook). */
export const renderNotification = (
  config: NotificationsConfig,
  templateName: string,
  app: Application | Record<string, unknown>,
  service?: string,
): RenderedNotification => {
  const template = config.templates.get(templateName);
  if (template === undefined) {
    throw new NotificationsConfigError(
      `no template ${JSON.stringify(templateName)}; the ConfigMap has ${[...config.templates.keys()].join(', ')}`,
    );
  }
  const name = service ?? [...template.webhook.keys()][0];
  const hook = name === undefined ? undefined : template.webhook.get(name);
  if (name === undefined || hook === undefined) {
    throw new NotificationsConfigError(`template ${templateName} has no webhook.${service ?? '<service>'}`);
  }
  const vars = templateVars(config, app, name);
  return {
    trigger: undefined,
    template: templateName,
    service: name,
    method: hook.method,
    path: hook.path?.execute(vars) ?? '',
    body: hook.body.execute(vars),
  };
};

/** Evaluates one trigger's conditions on `app` and renders the templates of those that hold (no `oncePer` bookkeeping). */
export const renderTrigger = (
  config: NotificationsConfig,
  triggerName: string,
  app: Application | Record<string, unknown>,
  service?: string,
): RenderedNotification[] => {
  const conditions = config.triggers.get(triggerName);
  if (conditions === undefined) {
    throw new NotificationsConfigError(
      `no trigger ${JSON.stringify(triggerName)}; the ConfigMap has ${[...config.triggers.keys()].join(', ')}`,
    );
  }
  return conditions
    .filter((c) => c.when.evaluate({ app }) === true)
    .flatMap((c) =>
      c.send.map((t) => ({ ...renderNotification(config, t, app, service), trigger: triggerName })),
    );
};

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Argo CD's notification controller skips an app whose finished operation is newer than both its
 * `reconciledAt` and its (deprecated, still honoured) `observedAt`: health and sync status may not
 * reflect the operation yet. No operation or no phase counts as refreshed; a missing time counts as
 * the zero time (`notification_controller/controller/controller.go` `isAppSyncStatusRefreshed`, 2.8-3.x).
 */
export const isAppSyncStatusRefreshed = (app: Application | Record<string, unknown>): boolean => {
  const status = (app as { status?: Record<string, unknown> }).status;
  const op = status?.operationState as Record<string, unknown> | undefined;
  if (op === undefined) return true;
  const phase = str(op.phase);
  if (phase !== 'Failed' && phase !== 'Error' && phase !== 'Succeeded') return true;
  const finishedAt = Date.parse(str(op.finishedAt) ?? '');
  if (Number.isNaN(finishedAt)) return false;
  const time = (value: unknown): number => {
    const parsed = Date.parse(str(value) ?? '');
    return Number.isNaN(parsed) ? 0 : parsed;
  };
  return !(finishedAt > time(status?.reconciledAt) && finishedAt > time(status?.observedAt));
};

export interface NotificationsControllerOptions {
  /** Only notifications for this webhook service. @default every subscribed service */
  readonly service?: string;
}

/**
 * The notification controller's decisions for a sequence of observations of apps: subscriptions
 * (ConfigMap `subscriptions` and `notifications.argoproj.io/subscribe.<trigger>.<service>` annotations),
 * edge triggering, `oncePer` (state kept per app, as Argo CD keeps it in the
 * `notified.notifications.argoproj.io` annotation) and the reconciledAt guard.
 */
export class NotificationsController {
  readonly config: NotificationsConfig;
  readonly #service: string | undefined;
  readonly #state = new Map<string, Set<string>>();

  constructor(config: NotificationsConfig, options: NotificationsControllerOptions = {}) {
    this.config = config;
    this.#service = options.service;
  }

  #destinations(
    app: Application | Record<string, unknown>,
  ): Map<string, { service: string; recipient: string }[]> {
    const out = new Map<string, { service: string; recipient: string }[]>();
    const add = (trigger: string, service: string, recipient: string) => {
      if (this.#service !== undefined && service !== this.#service) return;
      const list = out.get(trigger) ?? [];
      if (!list.some((d) => d.service === service && d.recipient === recipient))
        list.push({ service, recipient });
      out.set(trigger, list);
    };
    for (const sub of this.config.subscriptions) {
      for (const trigger of sub.triggers) {
        for (const r of sub.recipients) {
          const at = r.indexOf(':');
          add(trigger, at < 0 ? r : r.slice(0, at), at < 0 ? '' : r.slice(at + 1));
        }
      }
    }
    const annotations = (app as Application).metadata?.annotations ?? {};
    for (const [key, value] of Object.entries(annotations)) {
      const m = /^notifications\.argoproj\.io\/subscribe\.([^.]+)\.(.+)$/.exec(key);
      if (m === null) continue;
      const recipients = value.split(/[;,]/).map((r) => r.trim());
      for (const r of recipients) add(m[1] as string, m[2] as string, r);
    }
    return out;
  }

  /** What Argo CD sends for this observation of `app`, in trigger order. */
  observe(app: Application | Record<string, unknown>): RenderedNotification[] {
    if (!isAppSyncStatusRefreshed(app)) return [];
    const meta = (app as Application).metadata;
    const key = meta?.uid ?? `${meta?.namespace}/${meta?.name}`;
    const state = this.#state.get(key) ?? new Set<string>();
    this.#state.set(key, state);
    const sent: RenderedNotification[] = [];
    for (const [trigger, destinations] of this.#destinations(app)) {
      const conditions = this.config.triggers.get(trigger);
      if (conditions === undefined)
        throw new NotificationsConfigError(`subscription to unknown trigger ${trigger}`);
      conditions.forEach((condition, index) => {
        const triggered = condition.when.evaluate({ app }) === true;
        // As Argo CD: `oncePer` is evaluated only for a condition that holds.
        const oncePer =
          !triggered || condition.oncePer === undefined ? undefined : condition.oncePer.evaluate({ app });
        for (const d of destinations) {
          const stateKey = `${oncePer === undefined ? '<nil>' : goFormat(oncePer)}:${trigger}:[${index}]:${d.service}:${d.recipient}`;
          if (!triggered) {
            if (condition.oncePer === undefined) state.delete(stateKey);
            continue;
          }
          if (state.has(stateKey)) continue;
          state.add(stateKey);
          for (const t of condition.send) {
            const template = this.config.templates.get(t);
            if (template?.webhook.has(d.service) !== true) continue;
            sent.push({ ...renderNotification(this.config, t, app, d.service), trigger });
          }
        }
      });
    }
    return sent;
  }
}

export interface PostResult {
  readonly status: number;
  readonly body: string;
}

/**
 * POSTs a rendered body the way the webhook service does (its headers, `Content-Type` from the
 * service config). `url` is the service URL; a template `path` is appended as Argo CD appends it.
 */
export const postNotification = async (
  url: string,
  body: string,
  options: {
    readonly headers?: Readonly<Record<string, string>>;
    readonly path?: string;
    readonly method?: string;
  } = {},
): Promise<PostResult> => {
  const target =
    options.path === undefined || options.path === ''
      ? url
      : `${url.replace(/\/+$/, '')}/${options.path.replace(/^\/+/, '')}`;
  const response = await fetch(target, {
    method: options.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body,
  });
  return { status: response.status, body: await response.text() };
};
