import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/** This package's version (lib/ and dist/ both sit one level below package.json). */
export function libraryVersion(): string {
  if (cached === undefined) {
    try {
      cached = String(JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version);
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
