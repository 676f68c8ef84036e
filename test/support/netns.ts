// A private virtual network for tests that need a cluster's real node IPs and kubeadm's fixed ports without
// touching this machine's network: one network namespace per node, each with its node IP on an `eth0` plugged
// into a bridge, and its own loopback. Every node gets a namespace of its own (rather than all IPs on one
// loopback) because etcd checks a peer's client certificate against the address the connection comes from, and
// on a shared loopback every connection to 10.0.0.11 comes from 10.0.0.11.
//
// `unshare --user --map-root-user --net` works unprivileged where user namespaces are allowed, and as root; the
// nodes' namespaces are made inside that user namespace. A `sleep` holds each namespace, and every program that
// must live in one is started through `nsenter` on its holder. setpriv, unshare, nsenter (util-linux) and ip
// (iproute2) must be installed: a missing program fails the suite, it never skips it.
import { ChildProcess, spawn, SpawnOptions, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { eventually, settlesWithin } from './etcd-process';
import { RunResult } from './programs';

const READY_DEADLINE_MS = 5000;
const BRIDGE = 'br0';

/** The namespace's network inode as /proc shows it (`net:[4026532179]`), or undefined once the process is gone. */
function netNamespaceOf(pid: number | 'self'): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The processes of this machine (those /proc lets us see) living in one of the network namespaces `nets`. */
export function processesIn(nets: readonly string[]): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      const net = netNamespaceOf(pid);
      return net !== undefined && nets.includes(net);
    });
}

/** A `sleep` holding namespaces, and how to run programs in them. */
class Holder {
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exit = new Promise((resolve) => child.once('exit', () => ((this.exited = true), resolve())));
  }

  /**
   * Spawns `program args` (which must end by exec'ing `sleep infinity` in a new network namespace) and returns
   * once it is that sleep in a network namespace other than `parentNet`'s: before then, nsenter on its pid
   * would enter (and change) the parent's network.
   */
  static async start(program: string, args: string[], parentNet: string | undefined): Promise<Holder> {
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const holder = new Holder(child);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`${program} could not start (is util-linux installed?): ${err.message}`)));
    });
    const pid = child.pid!;
    const ready = await eventually(() => holder.exited || (commandOf(pid) === 'sleep' && netNamespaceOf(pid) !== parentNet), READY_DEADLINE_MS);
    if (holder.exited || !ready) {
      await holder.close();
      throw new Error(`no network namespace within ${READY_DEADLINE_MS} ms (are user namespaces allowed?): ${args.join(' ')}: ${stderr}`);
    }
    return holder;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get net(): string | undefined {
    return netNamespaceOf(this.pid);
  }

  /** `program args` run in the holder's namespaces, dying with this process (setpriv --pdeathsig). */
  command(program: string, args: readonly string[]): { program: string; args: string[] } {
    return { program: 'setpriv', args: ['--pdeathsig', 'KILL', 'nsenter', '-t', String(this.pid), '-U', '-n', '--preserve-credentials', program, ...args] };
  }

  async close(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGKILL');
    if (!(await settlesWithin(this.exit, 5000))) throw new Error(`the namespace holder (pid ${this.pid}) did not exit after SIGKILL`);
  }
}

/** Runs `program` to completion as `holder` would; a missing program throws, failing the test. */
function runIn(holder: Holder, program: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): RunResult {
  const inside = holder.command(program, args);
  const result = spawnSync(inside.program, inside.args, { env: options.env, encoding: 'utf8', timeout: options.timeoutMs ?? 30_000 });
  if (result.error) throw new Error(`${program} could not run in a network namespace: ${result.error.message}`);
  // nsenter's own failures (no such program, namespace gone) exit non-zero with nsenter's message on stderr.
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function runOkIn(holder: Holder, program: string, args: readonly string[]): string {
  const result = runIn(holder, program, args);
  if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} exited ${result.status} in a network namespace:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** One node of the network: its own network namespace, `ip` on its eth0. */
export class NetworkHost {
  constructor(
    readonly name: string,
    readonly ip: string,
    private readonly holder: Holder,
  ) {}

  /** Starts `program` on this host; nsenter execs it, so the child's pid is the program's own. */
  spawn(program: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const inside = this.holder.command(program, args);
    return spawn(inside.program, inside.args, options);
  }

  /** Runs `program` on this host to completion. */
  run(program: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): RunResult {
    return runIn(this.holder, program, args, options);
  }

  /** Like run(), but throws with stderr unless the program exits 0. */
  runOk(program: string, args: readonly string[]): string {
    return runOkIn(this.holder, program, args);
  }
}

export class VirtualNetwork {
  /** The network namespaces made (the bridge's, then each host's), as /proc names them: see processesIn(). */
  readonly namespaces: string[] = [];

  private constructor(
    private readonly hub: Holder,
    private readonly holders: Holder[],
    readonly hosts: readonly NetworkHost[],
  ) {}

  /**
   * Makes a namespace per host, plugs each into one bridge with `ip/prefixLength` on its eth0, brings every
   * loopback up and returns once every eth0 is up. On failure, everything made so far is removed first.
   * The holders, and every process started on a host, get SIGKILL if this process dies, so a killed test
   * run leaves nothing behind; close() is the orderly way.
   */
  static async create(hosts: readonly { name: string; ip: string }[], prefixLength = 24): Promise<VirtualNetwork> {
    const hub = await Holder.start('setpriv', ['--pdeathsig', 'KILL', 'unshare', '--user', '--map-root-user', '--net', 'sleep', 'infinity'], netNamespaceOf('self'));
    const network = new VirtualNetwork(hub, [], []);
    try {
      const hubNet = hub.net;
      network.namespaces.push(hubNet!);
      for (const host of hosts) {
        const inside = hub.command('unshare', ['--net', 'sleep', 'infinity']);
        const holder = await Holder.start(inside.program, inside.args, hubNet);
        network.holders.push(holder);
        network.namespaces.push(holder.net!);
        (network.hosts as NetworkHost[]).push(new NetworkHost(host.name, host.ip, holder));
      }
      const plug = network.holders.map((holder, i) => `ip link add v${i} type veth peer name eth0 netns ${holder.pid} && ip link set v${i} master ${BRIDGE} up`);
      runOkIn(hub, 'sh', ['-c', [`ip link add ${BRIDGE} type bridge`, `ip link set ${BRIDGE} up`, ...plug].join(' && ')]);
      for (const host of network.hosts) host.runOk('sh', ['-c', `ip addr add ${host.ip}/${prefixLength} dev eth0 && ip link set eth0 up && ip link set lo up`]);
      for (const host of network.hosts) {
        const up = await eventually(() => / state UP /.test(host.runOk('ip', ['-o', 'link', 'show', 'dev', 'eth0'])), READY_DEADLINE_MS);
        if (!up) throw new Error(`${host.name}'s eth0 is not up:\n${host.runOk('ip', ['-o', 'addr'])}`);
      }
      return network;
    } catch (err) {
      await network.close();
      throw err;
    }
  }

  host(name: string): NetworkHost {
    const host = this.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`no host ${name} in the network`);
    return host;
  }

  /** Kills every holder; processes started on the hosts are the caller's to stop before. */
  async close(): Promise<void> {
    const closed = await Promise.allSettled([...this.holders, this.hub].map((holder) => holder.close()));
    const failed = closed.find((c): c is PromiseRejectedResult => c.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
