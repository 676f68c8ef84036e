import * as fs from 'node:fs';
import * as path from 'node:path';

/** What this package's package.json says of itself and of the versions it is built and tested with. */
export interface PackageManifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

/**
 * This package's directory: the nearest of this file's directories holding a package.json, whether it runs built
 * (lib/src/, installed under node_modules/cdk8s-pki/) or from source (src/).
 */
export function packageDirectory(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`cdk8s-pki: no package.json in ${__dirname} or above it: the package is not installed whole`);
  }
}

/** This package's package.json. */
export function packageManifest(): PackageManifest {
  return JSON.parse(fs.readFileSync(path.join(packageDirectory(), 'package.json'), 'utf8'));
}
