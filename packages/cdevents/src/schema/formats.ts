/**
 * The string formats CDEvents schemas use, written from their RFCs: `uri` and `uri-reference`
 * (RFC 3986 `URI` and `URI-reference`) and `date-time` (RFC 3339 `date-time`).
 */

// RFC 3986, section by section. Case-insensitive; ASCII only (IRIs are not URIs).
const unreserved = 'a-z0-9\\-._~';
const subDelims = "!$&'()*+,;=";
const pctEncoded = '%[0-9a-f]{2}';
const pchar = `(?:[${unreserved}${subDelims}:@]|${pctEncoded})`;
const segment = `${pchar}*`;
const segmentNz = `${pchar}+`;
const userinfo = `(?:[${unreserved}${subDelims}:]|${pctEncoded})*`;
const ipLiteral = `\\[(?:[0-9a-f:.]+|v[0-9a-f]+\\.[${unreserved}${subDelims}:]+)\\]`;
const regName = `(?:[${unreserved}${subDelims}]|${pctEncoded})*`;
const authority = `(?:${userinfo}@)?(?:${ipLiteral}|${regName})(?::[0-9]*)?`;
const pathAbempty = `(?:/${segment})*`;
const pathAbsolute = `/(?:${segmentNz}(?:/${segment})*)?`;
const pathRootless = `${segmentNz}(?:/${segment})*`;
const queryOrFragment = `(?:${pchar}|[/?])*`;
const scheme = '[a-z][a-z0-9+\\-.]*';
const tail = `(?:\\?${queryOrFragment})?(?:#${queryOrFragment})?`;
const hierPart = `(?://${authority}${pathAbempty}|${pathAbsolute}|${pathRootless}|)`;
// RFC 3986 section 4.2 forbids a colon in the first segment of a relative path ("a:b/c"); the
// validator the CDEvents project uses (ajv-formats) accepts it, and so do we, so that every event the
// official tooling accepts is accepted here too (e.g. a source of "10.0.0.1:8080/argocd").
const relativePart = `(?://${authority}${pathAbempty}|${pathAbsolute}|${pathRootless}|)`;

const URI = new RegExp(`^${scheme}:${hierPart}${tail}$`, 'i');
const RELATIVE_REF = new RegExp(`^${relativePart}${tail}$`, 'i');

/** RFC 3986 `URI`: an absolute URI with a scheme, e.g. `https://example.com/x` or `urn:x`. */
export const isUri = (value: string): boolean => URI.test(value);

/** RFC 3986 `URI-reference`: a URI or a relative reference such as `/event/source/123`. */
export const isUriReference = (value: string): boolean => URI.test(value) || RELATIVE_REF.test(value);

// RFC 3339 section 5.6. The separator may be `T`, `t` or a space (section 5.6, NOTE);
// the offset is `Z` or `+hh:mm`, never omitted: a time without a zone is not an instant.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

const isLeapYear = (year: number): boolean => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** RFC 3339 `date-time`, with calendar checks (no 30 February) and leap seconds only at 23:59:60 UTC. */
export const isDateTime = (value: string): boolean => {
  const m = DATE_TIME.exec(value);
  if (m === null) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1) return false;
  const maxDay = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month] ?? 0);
  if (day > maxDay) return false;
  const offsetHours = m[8] === undefined ? 0 : Number(m[8]);
  const offsetMinutes = m[9] === undefined ? 0 : Number(m[9]);
  if (offsetHours > 23 || offsetMinutes > 59) return false;
  if (hour > 23 || minute > 59) return false;
  if (second < 60) return true;
  if (second > 60) return false;
  // A leap second is only valid at 23:59:60 in UTC.
  const sign = m[7] === '-' ? -1 : 1;
  const utcMinutes =
    (((hour * 60 + minute - sign * (offsetHours * 60 + offsetMinutes)) % 1440) + 1440) % 1440;
  return utcMinutes === 23 * 60 + 59;
};

export const FORMAT_CHECKS = {
  uri: isUri,
  'uri-reference': isUriReference,
  'date-time': isDateTime,
} as const;

export const FORMAT_DESCRIPTIONS = {
  uri: 'an absolute URI (RFC 3986), e.g. https://example.com/path',
  'uri-reference': 'a URI reference (RFC 3986), e.g. /argocd/app or https://example.com/x',
  'date-time': 'an RFC 3339 timestamp with a zone, e.g. 2026-01-31T12:00:00.000Z',
} as const;
