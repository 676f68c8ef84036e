// A throwaway PostgreSQL server for the state-backend tests: initdb into a temporary directory, then `postgres`
// listening on a Unix socket only (listen_addresses=''), stopped by the test. Debian's postgresql package puts
// the binaries in /usr/lib/postgresql/<version>/bin. PostgreSQL refuses to run as root, so as root (a CI
// container) initdb and the server run as `nobody` through util-linux's setpriv, in directories given to nobody.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The newest /usr/lib/postgresql/<version>/bin holding initdb and postgres. */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres'))) : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server under ${root}/*/bin: install Debian's postgresql package (.ci/run does)`);
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

const AS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

/** `program args` as the server's user: ourselves, or nobody when we are root. */
function asServerUser(program: string, args: string[]): [string, string[]] {
  return AS_ROOT ? ['setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', program, ...args]] : [program, args];
}

function runAsServerUser(program: string, args: string[]): string {
  const [command, argv] = asServerUser(program, args);
  const result = spawnSync(command, argv, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} exited ${result.status ?? result.signal}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

export interface PostgresServer {
  /** The socket directory (the `host` of a Unix-socket URL). */
  readonly socketDir: string;
  /** A URL of `database` (created by `createDatabase`) as the superuser, with `?state=` when given. */
  url(database: string, state?: string): string;
  createDatabase(name: string): void;
  /** Runs SQL with psql in `database`; the rows unaligned, `|`-separated. */
  psql(database: string, sql: string): string;
  stop(): void;
}

/** Starts a server in a fresh temporary directory; `stop()` ends it and removes the directory. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-pki-postgres-'));
  const data = path.join(dir, 'data');
  const socketDir = path.join(dir, 'socket');
  fs.mkdirSync(socketDir);
  if (AS_ROOT) {
    fs.chmodSync(dir, 0o755);
    fs.chownSync(socketDir, NOBODY, NOBODY);
    fs.mkdirSync(data, { mode: 0o700 });
    fs.chownSync(data, NOBODY, NOBODY);
  }
  runAsServerUser(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
  const [command, argv] = asServerUser(path.join(bin, 'postgres'), ['-D', data, '-k', socketDir, '-c', 'listen_addresses=']);
  const log = fs.openSync(path.join(dir, 'server.log'), 'a');
  const server = spawn(command, argv, { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const psqlArgs = (database: string) => ['-h', socketDir, '-U', 'postgres', '-d', database, '-X', '-At', '-v', 'ON_ERROR_STOP=1'];
  for (let ready = false; !ready; ) {
    if (server.exitCode !== null) throw new Error(`postgres exited ${server.exitCode}:\n${fs.readFileSync(path.join(dir, 'server.log'), 'utf8')}`);
    ready = spawnSync(path.join(bin, 'pg_isready'), ['-h', socketDir, '-U', 'postgres', '-q']).status === 0;
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const psql = (database: string, sql: string) => {
    const result = spawnSync(path.join(bin, 'psql'), [...psqlArgs(database), '-c', sql], { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
    if (result.status !== 0) throw new Error(`psql ${database}: ${sql}\n${result.stderr}`);
    return result.stdout;
  };
  return {
    socketDir,
    url: (database, state) => `postgres://postgres@/${database}?host=${encodeURIComponent(socketDir)}${state ? `&state=${encodeURIComponent(state)}` : ''}`,
    createDatabase: (name) => void psql('postgres', `CREATE DATABASE "${name}"`),
    psql,
    stop: () => {
      runAsServerUser(path.join(bin, 'pg_ctl'), ['-D', data, 'stop', '-m', 'fast', '-w']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
