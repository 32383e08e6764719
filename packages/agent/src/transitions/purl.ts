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

const OCI = /^oci:\/\//i;

/**
 * A package URL (purl) for what an Argo CD source deployed at a revision: `pkg:helm` for charts,
 * `pkg:oci` for OCI sources (3.1+: `repoURL: oci://...`, the revision a manifest digest, the tag in
 * `targetRevision`), `pkg:github` for GitHub repositories, `pkg:generic` with a `vcs_url` for other
 * Git servers (`pkg:git` is not a purl type). `rendering`, a digest of the source's Helm values,
 * parameters or Kustomize images (`deployments.ts` renderingDigest), goes in the `argocd_rendering`
 * qualifier: one revision rendered two ways is two artifacts.
 */
export const artifactPurl = (
  source: Pick<ApplicationSource, 'repoURL' | 'path' | 'chart' | 'targetRevision'> | undefined,
  revision: string,
  rendering = '',
): string => {
  const version = revision === '' ? (source?.targetRevision ?? '') : revision;
  const at = version === '' ? '' : `@${encode(version)}`;
  const extra = { argocd_rendering: rendering === '' ? undefined : rendering };
  if (source === undefined || (source.repoURL ?? '') === '')
    return `pkg:generic/unknown${at}${qualifiers(extra)}`;
  const repoURL = source.repoURL ?? '';
  if (OCI.test(repoURL)) {
    // purl-spec `oci`: the name is the last path segment, the version the digest, the rest qualifiers.
    const location = repoURL.replace(OCI, '').replace(/\/+$/, '');
    const name = location.split('/').at(-1)?.toLowerCase() ?? 'artifact';
    const tag =
      source.targetRevision !== undefined && source.targetRevision !== version
        ? source.targetRevision
        : undefined;
    const path =
      source.path === undefined || source.path === '' || source.path === '.' ? undefined : source.path;
    return `pkg:oci/${encode(name)}${at}${qualifiers({ repository_url: location, tag, argocd_path: path, ...extra })}`;
  }
  if (source.chart !== undefined && source.chart !== '') {
    return `pkg:helm/${encode(source.chart)}${at}${qualifiers({ repository_url: repoURL, ...extra })}`;
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
    return `pkg:github/${encode(owner.toLowerCase())}/${encode(repo.toLowerCase())}${at}${qualifiers(extra)}${subpath}`;
  }
  const name =
    repoURL
      .replace(/\.git$/, '')
      .split(/[/:]/)
      .filter((s) => s !== '')
      .at(-1) ?? 'repository';
  const vcsUrl = `git+${repoURL}${version === '' ? '' : `@${version}`}`;
  return `pkg:generic/${encode(name)}${at}${qualifiers({ vcs_url: vcsUrl, ...extra })}`;
};

const PURL = /^pkg:[a-z][a-z0-9.+-]*\/[^?#@]+(?:@[^?#]+)?(?:\?[^#]*)?(?:#.*)?$/;

/** `true` for a syntactically valid purl (type, name, optional version, qualifiers, subpath). */
export const isPurl = (value: string): boolean => PURL.test(value) && !value.startsWith('pkg:git/');
