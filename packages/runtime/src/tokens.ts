import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Parses `name=token` entries (flags, env, or the lines of a file; blank lines and `#` comments
 * skipped). `what` names the option in errors; `validName` says which names are allowed (the hub's
 * ingest producers become the raw subject's instance, so they must be subject tokens).
 */
export const parseTokens = (
  entries: readonly string[],
  what: string,
  validName: (name: string) => boolean = (name) => /^[A-Za-z0-9_-]{1,64}$/.test(name),
): Map<string, string> => {
  const tokens = new Map<string, string>();
  for (const entry of entries) {
    const line = entry.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    const name = line.slice(0, at).trim();
    const token = line.slice(at + 1).trim();
    if (at <= 0 || token === '')
      throw new Error(`${what} tokens are name=token entries (one had no "=" or no token)`);
    if (!validName(name))
      throw new Error(
        `${what} token name ${JSON.stringify(name)} must be 1-64 characters of A-Z a-z 0-9 _ -`,
      );
    tokens.set(name, token);
  }
  return tokens;
};

/** Checks bearer tokens in constant time; only digests are kept, so a heap dump shows no token. */
export class TokenVerifier {
  readonly #digests: { name: string; digest: Buffer }[];

  constructor(tokens: ReadonlyMap<string, string>) {
    this.#digests = [...tokens].map(([name, token]) => ({ name, digest: digest(token) }));
  }

  /** No token configured: the caller decides what that allows (loopback only, here). */
  get empty(): boolean {
    return this.#digests.length === 0;
  }

  /** The name of the presented token, or undefined. Looks at every entry so timing tells nothing. */
  verify(presented: string): string | undefined {
    const candidate = digest(presented);
    let name: string | undefined;
    for (const entry of this.#digests) if (timingSafeEqual(entry.digest, candidate)) name = entry.name;
    return name;
  }
}

/** The token of an `Authorization: Bearer <token>` value, or undefined. */
export const bearerToken = (authorization: string | undefined): string | undefined => {
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  const token = m?.[1]?.trim();
  return token === undefined || token === '' ? undefined : token;
};
