/**
 * `cdk8s-pki init`: a new cdk8s app that uses this library, laid out as `cdk8s init typescript-app` lays one out.
 * Its files are those of templates/app/ (shipped in the package), plus a package.json that pins the app to this
 * package's version and to the cdk8s, constructs and tool versions this package is built and tested with.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecError } from '../engine/errors';
import { PackageManifest, packageDirectory, packageManifest } from '../package-manifest';

/** What a directory may already hold for init to write into it: the repository made for the app (`git init`, an empty clone). */
export const ALLOWED_EXISTING_ENTRIES: readonly string[] = ['.git'];

/** The mode of every file init writes: sources and configuration, nothing secret (the keys come with the first synth). */
export const SCAFFOLD_FILE_MODE = 0o644;

/** The app's name of a template file stored under another: npm leaves every `.gitignore` out of a package. */
const APP_NAME_OF: Readonly<Record<string, string>> = { gitignore: '.gitignore' };

/** The app's runtime and tool dependencies, each pinned to this package's own devDependency of that name. */
const PINNED_DEPENDENCIES = ['cdk8s', 'constructs'];
const PINNED_DEV_DEPENDENCIES = ['cdk8s-cli', 'typescript', 'ts-node', 'jest', 'ts-jest', '@types/jest', '@types/node'];

/** One file of the new app. */
export interface ScaffoldFile {
  /** Relative to the app's directory. */
  readonly path: string;
  readonly mode: number;
  readonly content: string;
}

/** The directory of the app template, in this package. */
export function templateDirectory(): string {
  return path.join(packageDirectory(), 'templates', 'app');
}

/** An npm package name from a directory name: lower-case, URL-safe, not starting with `.` or `_`. */
export function packageNameFor(directoryName: string): string {
  const name = directoryName
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '')
    .slice(0, 214);
  return name || 'cdk8s-app';
}

/** The app's package.json: its scripts, this package as a dependency, and every other dependency pinned as this package pins it. */
export function appPackageJson(name: string, manifest: PackageManifest): string {
  const pinned = (names: string[]) =>
    Object.fromEntries(
      names.map((dependency) => {
        const version = manifest.devDependencies?.[dependency];
        if (version === undefined) throw new Error(`cdk8s-pki: its package.json pins no ${dependency} among its devDependencies, which init copies into the app`);
        return [dependency, version];
      }),
    );
  const app = {
    name,
    version: '0.1.0',
    private: true,
    scripts: { synth: 'cdk8s synth', test: 'jest' },
    dependencies: { ...pinned(PINNED_DEPENDENCIES), [manifest.name]: manifest.version },
    devDependencies: pinned(PINNED_DEV_DEPENDENCIES),
  };
  return `${JSON.stringify(app, null, 2)}\n`;
}

/** Every file of a new app called `name` (its package name), by path: the template's and package.json. */
export function scaffoldFiles(name: string, manifest: PackageManifest, templates: string = templateDirectory()): ScaffoldFile[] {
  const files = fs.readdirSync(templates).map((stored) => ({ path: APP_NAME_OF[stored] ?? stored, mode: SCAFFOLD_FILE_MODE, content: fs.readFileSync(path.join(templates, stored), 'utf8') }));
  return [...files, { path: 'package.json', mode: SCAFFOLD_FILE_MODE, content: appPackageJson(name, manifest) }].sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * Writes a new app into `dir`, created if it does not exist. A directory holding anything but
 * `ALLOWED_EXISTING_ENTRIES` is refused before anything is written, with what it holds: init never merges an app
 * into existing files. Returns the files written.
 */
export function initApp(dir: string, manifest: PackageManifest = packageManifest()): ScaffoldFile[] {
  const target = path.resolve(dir);
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory()) throw new SpecError('init', `${dir} exists and is not a directory; name a new or an empty directory`);
    const present = fs.readdirSync(target).filter((entry) => !ALLOWED_EXISTING_ENTRIES.includes(entry));
    if (present.length > 0) {
      const listed = present.length > 5 ? `${present.slice(0, 5).join(', ')} and ${present.length - 5} more` : present.join(', ');
      throw new SpecError('init', `${dir} is not empty (it holds ${listed}); init writes a new app into a new or an empty directory (${ALLOWED_EXISTING_ENTRIES.join(', ')} may be there)`);
    }
  }
  const files = scaffoldFiles(packageNameFor(path.basename(target)), manifest);
  fs.mkdirSync(target, { recursive: true });
  for (const file of files) {
    const full = path.join(target, file.path);
    fs.writeFileSync(full, file.content, { mode: file.mode, flag: 'wx' });
    fs.chmodSync(full, file.mode); // the umask must not change the mode
  }
  return files;
}

/** `word` as one shell word: as it is when it needs no quoting, else in single quotes. */
const shellWord = (word: string): string => (/^[\w./~-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/**
 * The commands to run next in the new app at `dir` (as the user named it), one a line with what each does: the
 * app README's first `sh` block, after a `cd` when the app is not the working directory.
 */
export function nextCommands(dir: string, files: readonly ScaffoldFile[], cwd: string = process.cwd()): string[] {
  const readme = files.find((file) => file.path === 'README.md')?.content ?? '';
  const block = /^```sh\n([\s\S]*?)^```$/m.exec(readme)?.[1] ?? '';
  const cd = path.resolve(cwd, dir) === path.resolve(cwd) ? [] : [`cd ${shellWord(dir)}`];
  return [...cd, ...block.split('\n').filter((line) => line.trim() !== '')];
}
