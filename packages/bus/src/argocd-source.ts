/**
 * `context.source` of what agents derive from Argo CD: `/argocd/<cluster>/<namespace>/...`, each
 * segment escaped as Go's `url.QueryEscape` escapes it, which the Argo CD Notifications templates
 * apply (`urlquery`): letters, digits and `-_.~` stay, a space becomes `+`, every other UTF-8 byte
 * `%XX`. The agent, the templates and the hub (which checks who owns a cluster) read it the same way.
 */
export const ARGOCD_SOURCE_PREFIX = '/argocd/';

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/** One segment of an Argo CD source, escaped as Go's `url.QueryEscape` does. */
export const escapeSourceSegment = (value: string): string => {
  let out = '';
  for (const char of value) {
    if (UNRESERVED.test(char)) out += char;
    else if (char === ' ') out += '+';
    else
      for (const byte of Buffer.from(char, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
};

/** The inverse of escapeSourceSegment; undefined for a segment that is not valid escaped UTF-8. */
export const unescapeSourceSegment = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
};

/** The cluster an Argo CD source names, unescaped; undefined for any other source. A segment that does not unescape is returned as is. */
export const argocdSourceCluster = (source: string): string | undefined => {
  if (!source.startsWith(ARGOCD_SOURCE_PREFIX)) return undefined;
  const rest = source.slice(ARGOCD_SOURCE_PREFIX.length);
  const end = rest.indexOf('/');
  const segment = end === -1 ? rest : rest.slice(0, end);
  return unescapeSourceSegment(segment) ?? segment;
};
