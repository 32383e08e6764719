import { readFileSync } from 'node:fs';

interface PackageJson {
  readonly version: string;
}

/** The CLI's version, read from its package.json (works from src/ and dist/ alike). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as PackageJson
).version;
