import type { ApplicationSource } from '../argocd/types.js';

// purl-spec: the name, version and qualifier values are percent-encoded; ':' in versions as %3A.
const encode = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const qualifiers = (entries: Record<string, string | undefined>): string => {
  const parts = Object.entries(entries)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${encode(v)}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
};

const GITHUB = /^(?:https?:\/\/|git@|ssh:\/\/git@)github\.com[/:]([^/]+)\/([^/]+?)(?:\.git)?\/?$/i;

/**
 * A package URL (purl) for what an Argo CD source deployed at a revision: `pkg:helm` for charts,
 * `pkg:github` for GitHub repositories, `pkg:generic` with a `vcs_url` for other Git servers.
 * (`pkg:git` is not a purl type.)
 */
export const artifactPurl = (source: ApplicationSource | undefined, revision: string): string => {
  const version = revision === '' ? (source?.targetRevision ?? '') : revision;
  const at = version === '' ? '' : `@${encode(version)}`;
  if (source === undefined || (source.repoURL ?? '') === '') return `pkg:generic/unknown${at}`;
  const repoURL = source.repoURL ?? '';
  if (source.chart !== undefined && source.chart !== '') {
    return `pkg:helm/${encode(source.chart)}${at}${qualifiers({ repository_url: repoURL })}`;
  }
  const github = GITHUB.exec(repoURL);
  if (github !== null) {
    const [, owner = '', repo = ''] = github;
    const path = source.path ?? '';
    const subpath =
      path === '' || path === '.'
        ? ''
        : `#${path
            .split('/')
            .filter((s) => s !== '')
            .map(encode)
            .join('/')}`;
    return `pkg:github/${encode(owner.toLowerCase())}/${encode(repo.toLowerCase())}${at}${subpath}`;
  }
  const name =
    repoURL
      .replace(/\.git$/, '')
      .split(/[/:]/)
      .filter((s) => s !== '')
      .at(-1) ?? 'repository';
  const vcsUrl = `git+${repoURL}${version === '' ? '' : `@${version}`}`;
  return `pkg:generic/${encode(name)}${at}${qualifiers({ vcs_url: vcsUrl })}`;
};

const PURL = /^pkg:[a-z][a-z0-9.+-]*\/[^?#@]+(?:@[^?#]+)?(?:\?[^#]*)?(?:#.*)?$/;

/** `true` for a syntactically valid purl (type, name, optional version, qualifiers, subpath). */
export const isPurl = (value: string): boolean => PURL.test(value) && !value.startsWith('pkg:git/');
