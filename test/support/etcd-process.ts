// A real etcd process for the integration suites: the caller gives the flags that make it *its* etcd (name, data
// dir, TLS files, …); this harness only picks free loopback ports for the address flags, waits until etcdctl sees
// a healthy endpoint, runs etcdctl as a given client identity and reads etcd's log. etcd and etcdctl must be
// installed: a missing program fails the suite, it never skips it.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import type { TLSSocket } from 'node:tls';

const ETCD = 'etcd';
const ETCDCTL = 'etcdctl';
const STARTUP_DEADLINE_MS = 20_000;
const ETCDCTL_TIMEOUT_MS = 15_000;

/** The flags this harness sets itself; a caller passing one of them would silently fight it, so start() refuses. */
export const ADDRESS_FLAGS = [
  'listen-client-urls',
  'advertise-client-urls',
  'listen-peer-urls',
  'initial-advertise-peer-urls',
  'listen-metrics-urls',
  'initial-cluster',
] as const;

/** How the harness makes etcd log: JSON lines on stderr, which rejectionsSince() parses. */
export const LOG_FLAGS = ['--logger=zap', '--log-outputs=stderr'] as const;

/** etcd and etcdctl with a clean environment: no ETCD_* / ETCDCTL_* leaking in from the machine running the tests. */
export function toolEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_') && !k.startsWith('ETCDCTL_')));
  return { ...env, ETCDCTL_API: '3' };
}

/** Who etcdctl (or a peer request) is: its certificate and key, and the CA it trusts for etcd's certificate. */
export interface EtcdClient {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export interface CtlResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** etcdctl's exit status and output in one string, so a failed expectation shows what etcdctl said. */
export const ctlOutput = (r: CtlResult) => `exit ${r.status}\n${r.stdout}${r.stderr}`;

/** How etcd logs a handshake the client abandoned before it finished (not an acceptance). */
export const CUT_SHORT = /^read tcp [\d.:]+->[\d.:]+: read: connection reset by peer$|^EOF$/;

/** A port nobody listens on right now, on 127.0.0.1 (the kernel picks it; we close at once and hand it to etcd). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `count` free ports, all different (the kernel may hand out a just-closed port again). */
export async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true if `promise` settles within `ms`, false otherwise; never leaves a timer behind. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` until it holds or `timeoutMs` has passed; returns whether it held (never throws on timeout). */
export async function eventually(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** `value` as a beforeAll set it; if that beforeAll failed, an error naming `what` instead of a TypeError later. */
export function fromBeforeAll<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} (see beforeAll)`);
  return value;
}

/** The value of `--<name>=<value>` in `args`, or undefined. */
export function flagValue(args: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  return args.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

/** The flag name of `--<name>[=<value>]`. */
export function flagName(arg: string): string {
  return arg.replace(/^--/, '').split('=')[0];
}

export interface EtcdStartOptions {
  /** Every flag but the addresses (ADDRESS_FLAGS) and the logging: --name, --data-dir, the TLS files, … */
  readonly flags: readonly string[];
  /** The identity etcdctl uses to ask whether the endpoint is healthy before start() returns. */
  readonly healthClient: EtcdClient;
  /** Also serve /metrics and /health over plain HTTP on a port of its own, as --listen-metrics-urls does. */
  readonly metrics?: boolean;
}

export class EtcdUnderTest {
  private output = '';
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exit: Promise<void>;

  private constructor(
    /** The whole command line etcd was started with (without the program name). */
    readonly args: readonly string[],
    readonly clientPort: number,
    readonly peerPort: number,
    readonly metricsPort: number | undefined,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve();
      }),
    );
  }

  get endpoint(): string {
    return `https://127.0.0.1:${this.clientPort}`;
  }

  get peerUrl(): string {
    return `https://127.0.0.1:${this.peerPort}`;
  }

  get log(): string {
    return this.output;
  }

  /**
   * Starts a single-member etcd with `options.flags` plus client and peer URLs (and metrics, if asked) on free
   * 127.0.0.1 ports, --initial-cluster naming the member as --name does, and JSON logging to stderr; then waits
   * for etcdctl, as `options.healthClient`, to report a healthy endpoint.
   */
  static async start(options: EtcdStartOptions): Promise<EtcdUnderTest> {
    const clashing = options.flags.filter((arg) => (ADDRESS_FLAGS as readonly string[]).includes(flagName(arg)) || flagName(arg) === 'logger' || flagName(arg) === 'log-outputs');
    if (clashing.length > 0) throw new Error(`the harness sets these flags itself: ${clashing.join(' ')}`);
    const name = flagValue(options.flags, 'name');
    if (!name) throw new Error('--name=<member> is required: --initial-cluster names the single member after it');

    const [clientPort, peerPort, metricsPort] = await distinctFreePorts(options.metrics ? 3 : 2);
    const peerUrl = `https://127.0.0.1:${peerPort}`;
    const clientUrl = `https://127.0.0.1:${clientPort}`;
    const args = [
      ...options.flags,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${name}=${peerUrl}`,
      ...(metricsPort === undefined ? [] : [`--listen-metrics-urls=http://127.0.0.1:${metricsPort}`]),
      ...LOG_FLAGS,
    ];
    const child = spawn(ETCD, args, { env: toolEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`${ETCD} could not start (is etcd installed?): ${err.message}`)));
    });
    await spawned;
    const etcd = new EtcdUnderTest(args, clientPort, peerPort, metricsPort, child);
    try {
      await etcd.waitHealthy(options.healthClient);
    } catch (err) {
      await etcd.stop(); // also when etcdctl itself is missing: never leave an etcd behind
      throw err;
    }
    return etcd;
  }

  private async waitHealthy(client: EtcdClient): Promise<void> {
    const deadline = Date.now() + STARTUP_DEADLINE_MS;
    let last: CtlResult | undefined;
    while (Date.now() < deadline) {
      if (this.exited) break;
      last = this.ctl(client, ['endpoint', 'health']);
      if (last.status === 0 && /is healthy/.test(last.stdout + last.stderr)) return;
      await sleep(250);
    }
    const why = this.exited ? `etcd exited (code ${this.exited.code}, signal ${this.exited.signal})` : `etcd was not healthy within ${STARTUP_DEADLINE_MS} ms`;
    throw new Error(`${why}\n--- etcd ${this.args.join(' ')} ---\n--- last etcdctl endpoint health ---\n${last ? last.stdout + last.stderr : '(never ran)'}\n--- etcd output ---\n${this.output}`);
  }

  /**
   * Runs etcdctl against this etcd as `client`. A refused handshake only shows as a deadline on etcdctl's side,
   * so calls expected to fail pass a short `commandTimeout` and `--debug` (which makes gRPC print the client's
   * own TLS errors).
   */
  ctl(client: EtcdClient, args: string[], options: { commandTimeout?: string; debug?: boolean } = {}): CtlResult {
    const result = spawnSync(ETCDCTL, etcdctlArgs([this.endpoint], client, args, options), { env: toolEnv(), encoding: 'utf8', timeout: ETCDCTL_TIMEOUT_MS });
    if (result.error) throw new Error(`${ETCDCTL} could not run (is etcdctl installed?): ${result.error.message}`);
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** A position in etcd's log, to read only what a later call made it write. */
  logMark(): number {
    return this.output.length;
  }

  /** etcd's "rejected connection" reasons logged since `mark`, waiting (bounded) until one matches `awaited`. */
  async rejectionsSince(mark: number, awaited: RegExp, timeoutMs = 3000): Promise<string[]> {
    const rejections = () => rejectionsIn(this.output.slice(mark));
    await eventually(() => rejections().some((reason) => awaited.test(reason)), timeoutMs);
    return rejections();
  }

  /** GET `urlPath` on the peer listener over HTTP/1.1 with node's TLS client, as `client`. */
  peerGet(client: EtcdClient, urlPath: string): Promise<{ status: number; body: string; protocol: string | null }> {
    return new Promise((resolve, reject) => {
      const request = https.get(
        {
          host: '127.0.0.1',
          port: this.peerPort,
          path: urlPath,
          ca: fs.readFileSync(client.ca),
          cert: fs.readFileSync(client.cert),
          key: fs.readFileSync(client.key),
          agent: false,
          timeout: 5000,
        },
        (response) => {
          const protocol = (response.socket as TLSSocket).getProtocol();
          let body = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body, protocol }));
        },
      );
      request.on('timeout', () => request.destroy(new Error('peer request timed out')));
      request.on('error', reject);
    });
  }

  /** Stops etcd: SIGTERM, then SIGKILL if it has not exited after 5 s; waits for the exit either way. */
  async stop(): Promise<void> {
    if (this.exited) return;
    await stopChild(this.child, this.exit);
  }
}

/** Stops `child` (whose exit `exit` resolves on): SIGTERM, then SIGKILL if it has not exited after 5 s. */
export async function stopChild(child: ChildProcess, exit: Promise<void>): Promise<void> {
  child.kill('SIGTERM');
  if (await settlesWithin(exit, 5000)) return;
  child.kill('SIGKILL');
  if (!(await settlesWithin(exit, 5000))) throw new Error(`${child.spawnfile} (pid ${child.pid}) did not exit after SIGKILL`);
}

/** etcdctl's flags for `client` against `endpoints`, then `args`; see EtcdUnderTest.ctl for the options. */
export function etcdctlArgs(endpoints: readonly string[], client: EtcdClient, args: readonly string[], options: { commandTimeout?: string; debug?: boolean } = {}): string[] {
  return [
    `--endpoints=${endpoints.join(',')}`,
    `--cacert=${client.ca}`,
    `--cert=${client.cert}`,
    `--key=${client.key}`,
    '--dial-timeout=3s',
    `--command-timeout=${options.commandTimeout ?? '5s'}`,
    ...(options.debug ? ['--debug'] : []),
    ...args,
  ];
}

/** The reasons of the "rejected connection" entries in a piece of etcd's JSON log. */
export function rejectionsIn(log: string): string[] {
  return log
    .split('\n')
    .filter((line) => line.includes('"msg":"rejected connection"'))
    .map((line) => (JSON.parse(line) as { error: string }).error);
}

/** What expectRefusedPut needs of an etcd: its log, and etcdctl against it alone. */
export type JudgingEtcd = Pick<EtcdUnderTest, 'logMark' | 'ctl' | 'rejectionsSince'>;

/**
 * A put etcd must refuse: etcdctl as `client` fails, etcd logs `reason` for the handshake, and `reader` (an
 * accepted client) finds the key unwritten. etcdctl redials until its deadline, so a handshake cut short when it
 * gives up is logged as a reset (CUT_SHORT): that is the only other reason allowed.
 */
export async function expectRefusedPut(etcd: JudgingEtcd, client: EtcdClient, key: string, reason: RegExp, reader: EtcdClient): Promise<void> {
  const mark = etcd.logMark();
  const ctl = etcd.ctl(client, ['put', key, 'x'], { commandTimeout: '1s' });
  expect(ctl.status).not.toBe(0);
  expect(ctl.stdout).not.toContain('OK');
  expect(ctl.stderr).toMatch(/context deadline exceeded|all SubConns are in TransientFailure/);
  const rejections = await etcd.rejectionsSince(mark, reason);
  expect(rejections.filter((logged) => reason.test(logged)).length).toBeGreaterThan(0);
  for (const logged of rejections) expect(logged).toMatch(new RegExp(`${reason.source}|${CUT_SHORT.source}`));
  expect(ctlOutput(etcd.ctl(reader, ['get', key, '--print-value-only']))).toBe('exit 0\n');
}
