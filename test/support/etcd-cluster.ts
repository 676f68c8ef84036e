// A real multi-member etcd cluster on a private virtual network (netns.ts: each member on a host of its own with
// its node IP), each member run from its node's exported /etc/kubernetes tree: the flags of its
// manifests/etcd.yaml with only the data directory replaced. Members are restarted one at a time onto other
// files with their data kept, as a rolling restart of the control plane does.
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { KUBERNETES_DIR } from '../../src/kubeadm/layout';
import { CtlResult, EtcdClient, etcdctlArgs, eventually, flagName, flagValue, JudgingEtcd, LOG_FLAGS, sleep, stopChild, toolEnv } from './etcd-process';
import { NetworkHost, VirtualNetwork } from './netns';
import { tempDir } from './programs';

const HEALTHY_DEADLINE_MS = 30_000;

/**
 * Where etcdctl runs: a host of its own, so that a connection a member sees from another member's address is a
 * peer's, never etcdctl's.
 */
export const CLIENT_HOST = { name: 'client', ip: '10.0.0.100' } as const;
const ETCDCTL_TIMEOUT_MS = 15_000;

/** The flags of the etcd command in `<exportDir>/manifests/etcd.yaml`, as written (paths under /etc/kubernetes). */
export function etcdManifestFlags(exportDir: string): string[] {
  const pod = parse(fs.readFileSync(path.join(exportDir, 'manifests/etcd.yaml'), 'utf8')) as { spec: { containers: { name: string; command: string[] }[] } };
  const container = pod.spec.containers.find((c) => c.name === 'etcd');
  if (!container) throw new Error('manifests/etcd.yaml has no etcd container');
  const [program, ...flags] = container.command;
  if (program !== 'etcd') throw new Error(`manifests/etcd.yaml runs ${program}, not etcd`);
  return flags;
}

/** `--flag=/etc/kubernetes/x` → `--flag=<exportDir>/x`; every other flag unchanged. */
export function intoExport(exportDir: string, arg: string): string {
  const value = flagValue([arg], flagName(arg));
  return value?.startsWith(`${KUBERNETES_DIR}/`) ? `--${flagName(arg)}=${path.join(exportDir, value.slice(KUBERNETES_DIR.length + 1))}` : arg;
}

/** The etcd flags of `<exportDir>/manifests/etcd.yaml`, every `/etc/kubernetes/…` path moved into the export. */
export function manifestEtcdFlags(exportDir: string): string[] {
  return etcdManifestFlags(exportDir).map((arg) => intoExport(exportDir, arg));
}

/** The host of the member's first advertised client URL: its node IP. */
function nodeIpOf(flags: readonly string[]): string {
  const advertised = flagValue(flags, 'advertise-client-urls')?.split(',')[0];
  if (!advertised) throw new Error('the manifest has no --advertise-client-urls');
  return new URL(advertised).hostname;
}

/** The flags a member runs with: the manifest's, but `--data-dir` is `dataDir`. */
export function memberFlags(manifestFlags: readonly string[], dataDir: string): string[] {
  return manifestFlags.map((arg) => (flagName(arg) === 'data-dir' ? `--data-dir=${dataDir}` : arg));
}

/** One entry of etcd's JSON log. */
export interface LogEntry {
  msg: string;
  [field: string]: unknown;
}

export class EtcdMember {
  private output = '';
  private child: ChildProcess | undefined;
  private exit: Promise<void> = Promise.resolve();
  private exitStatus: string | undefined;
  private currentArgs: string[] = [];

  constructor(
    readonly name: string,
    readonly host: NetworkHost,
    readonly dataDir: string,
  ) {}

  get ip(): string {
    return this.host.ip;
  }

  /** The client URL on the node IP, as the manifest advertises it. */
  get endpoint(): string {
    return `https://${this.ip}:2379`;
  }

  /** The command line of the running (or last) etcd, without the program name. */
  get args(): readonly string[] {
    return this.currentArgs;
  }

  /** Everything every etcd of this member wrote, across restarts. */
  get log(): string {
    return this.output;
  }

  /** A description of how the member's etcd exited, or undefined while it runs. */
  get exited(): string | undefined {
    return this.exitStatus;
  }

  logMark(): number {
    return this.output.length;
  }

  /** The JSON log entries written since `mark` (whole lines only: etcd may be writing the last one). */
  entriesSince(mark: number): LogEntry[] {
    const written = this.output.slice(mark);
    return written
      .slice(0, written.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogEntry);
  }

  /** The member's raft id as its log spells it (hex); etcd logs it as it starts. */
  get id(): string {
    const started = this.entriesSince(0).find((entry) => entry.msg === 'starting local member' || entry.msg === 'restarting local member');
    if (!started) throw new Error(`member ${this.name} has not logged its id`);
    return started['local-member-id'] as string;
  }

  /** The "rejected connection" entries since `mark`: who connected, and why etcd refused. */
  rejectionsFrom(mark: number): { from: string; error: string }[] {
    return this.entriesSince(mark)
      .filter((entry) => entry.msg === 'rejected connection')
      .map((entry) => ({ from: new URL(`https://${entry['remote-addr'] as string}`).hostname, error: entry.error as string }));
  }

  /** etcd's "rejected connection" reasons since `mark`, waiting (bounded) until one matches `awaited`. */
  async rejectionsSince(mark: number, awaited: RegExp, timeoutMs = 3000): Promise<string[]> {
    const rejections = () => this.rejectionsFrom(mark).map((r) => r.error);
    await eventually(() => rejections().some((reason) => awaited.test(reason)), timeoutMs);
    return rejections();
  }

  /** The peers (raft ids) this member saw become active since `mark`: a peer connection both ends accepted. */
  peersActiveSince(mark: number): string[] {
    return this.entriesSince(mark)
      .filter((entry) => entry.msg === 'peer became active')
      .map((entry) => entry['peer-id'] as string);
  }

  /** Starts etcd on the member's host with the manifest flags (see memberFlags) and JSON logging; does not wait. */
  start(manifestFlags: readonly string[]): void {
    if (this.child && this.exitStatus === undefined) throw new Error(`member ${this.name} is already running`);
    if (nodeIpOf(manifestFlags) !== this.ip || flagValue(manifestFlags, 'name') !== this.name) throw new Error(`these flags are not member ${this.name}'s (${this.ip})`);
    this.currentArgs = [...memberFlags(manifestFlags, this.dataDir), ...LOG_FLAGS];
    this.output += `--- etcd ${this.currentArgs.join(' ')}\n`;
    const child = this.host.spawn('etcd', this.currentArgs, { env: toolEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exitStatus = undefined;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitStatus = `code ${code}, signal ${signal}`;
        resolve();
      }),
    );
  }

  async stop(): Promise<void> {
    if (!this.child || this.exitStatus !== undefined) return;
    await stopChild(this.child, this.exit);
  }
}

/** A cluster of etcd members on one virtual network, each from a node's exported tree. */
export class EtcdCluster {
  private constructor(
    readonly network: VirtualNetwork,
    readonly members: readonly EtcdMember[],
    private readonly data: ReturnType<typeof tempDir>,
  ) {}

  /**
   * Starts one member per entry of `manifests` (member name → that node's manifestEtcdFlags) at once, on a
   * new virtual network with a host per member at its node IP, and waits until etcdctl, as `client`, finds
   * every member healthy. On failure, everything started is stopped before the error is thrown.
   */
  static async start(manifests: ReadonlyMap<string, readonly string[]>, client: EtcdClient): Promise<EtcdCluster> {
    const hosts = [...[...manifests.entries()].map(([name, flags]) => ({ name, ip: nodeIpOf(flags) })), CLIENT_HOST];
    const network = await VirtualNetwork.create(hosts);
    const data = tempDir('cdk8s-pki-etcd-cluster-');
    const members = [...manifests.keys()].map((name) => new EtcdMember(name, network.host(name), data.file(name)));
    const cluster = new EtcdCluster(network, members, data);
    try {
      for (const member of members) member.start(manifests.get(member.name)!);
      await cluster.waitHealthy(client);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  member(name: string): EtcdMember {
    const member = this.members.find((m) => m.name === name);
    if (!member) throw new Error(`no member ${name}`);
    return member;
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  /** etcdctl on the client host as `client`, against `endpoints` (every member's unless told). */
  ctl(client: EtcdClient, args: readonly string[], options: { endpoints?: readonly string[]; commandTimeout?: string; debug?: boolean } = {}): CtlResult {
    return this.network.host(CLIENT_HOST.name).run('etcdctl', etcdctlArgs(options.endpoints ?? this.endpoints, client, args, options), { env: toolEnv(), timeoutMs: ETCDCTL_TIMEOUT_MS });
  }

  /** Member `name` alone, as expectRefusedPut judges an etcd: its log, and etcdctl against its endpoint only. */
  judging(name: string): JudgingEtcd {
    const member = this.member(name);
    return {
      logMark: () => member.logMark(),
      rejectionsSince: (mark, awaited, timeoutMs) => member.rejectionsSince(mark, awaited, timeoutMs),
      ctl: (client, args, options = {}) => this.ctl(client, args, { ...options, endpoints: [member.endpoint] }),
    };
  }

  /** Runs `program` on the client host (openssl s_client against a member, say). */
  runOnClient(program: string, args: readonly string[]) {
    return this.network.host(CLIENT_HOST.name).run(program, args);
  }

  /** `endpoint health --cluster` as `client`: every member of the member list answers, healthy. */
  clusterHealth(client: EtcdClient): { healthy: boolean; result: CtlResult } {
    const result = this.ctl(client, ['endpoint', 'health', '--cluster', '--write-out=json']);
    if (result.status !== 0) return { healthy: false, result };
    const endpoints = JSON.parse(result.stdout) as { endpoint: string; health: boolean }[];
    const healthy = endpoints.length === this.members.length && endpoints.every((e) => e.health) && this.endpoints.every((url) => endpoints.some((e) => e.endpoint === url));
    return { healthy, result };
  }

  /** Waits until clusterHealth(client) holds; throws with etcdctl's last answer and the members' logs if not. */
  async waitHealthy(client: EtcdClient): Promise<void> {
    const deadline = Date.now() + HEALTHY_DEADLINE_MS;
    let last: CtlResult | undefined;
    while (Date.now() < deadline) {
      const gone = this.members.filter((m) => m.exited !== undefined);
      if (gone.length > 0) throw new Error(`etcd ${gone.map((m) => `${m.name} exited (${m.exited})`).join(', ')}\n${this.logs()}`);
      const health = this.clusterHealth(client);
      if (health.healthy) return;
      last = health.result;
      await sleep(250);
    }
    throw new Error(`the cluster was not healthy within ${HEALTHY_DEADLINE_MS} ms\n--- last etcdctl endpoint health --cluster ---\n${last ? last.stdout + last.stderr : '(never ran)'}\n${this.logs()}`);
  }

  /**
   * Stops member `name` and starts it again with `manifestFlags` (another export of the same node) on the same
   * data directory; waits until it serves clients again and every member is healthy for `client`. Returns the
   * position in each member's log (by name) from which the restarted etcd's connections are logged.
   */
  async restart(name: string, manifestFlags: readonly string[], client: EtcdClient): Promise<Map<string, number>> {
    const member = this.member(name);
    await member.stop();
    const marks = new Map(this.members.map((m) => [m.name, m.logMark()]));
    member.start(manifestFlags);
    const serving = await eventually(() => member.exited !== undefined || member.entriesSince(marks.get(name)!).some((e) => e.msg === 'serving client traffic securely'), HEALTHY_DEADLINE_MS);
    if (!serving || member.exited !== undefined) throw new Error(`member ${name} did not serve clients again${member.exited ? ` (exited: ${member.exited})` : ''}\n${this.logs()}`);
    await this.waitHealthy(client);
    return marks;
  }

  /** Every member's log, for failure messages. */
  logs(): string {
    return this.members.map((m) => `--- ${m.name} ---\n${m.log}`).join('\n');
  }

  /** Stops every member, then the namespaces, and removes the data; nothing outlives it, even when a stop fails. */
  async stop(): Promise<void> {
    // One at a time, as a rolling restart does: sent SIGTERM together, members shutting down without quorum
    // waited out the whole grace period before the SIGKILL.
    const failures: unknown[] = [];
    for (const member of this.members) await member.stop().catch((err: unknown) => failures.push(err));
    try {
      await this.network.close();
    } finally {
      this.data.cleanup();
    }
    if (failures.length > 0) throw failures[0];
  }
}
