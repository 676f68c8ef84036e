// examples/ca-rotation: the small cluster's synth before the rotation, whole, and what each phase's pull request
// changes in it (snapshots, fixed clock, seeded state); and the walk-through's claims of trust at each phase, with
// the real programs on a rotation issued now: openssl verify of cp-1's leaves against the bundles of every phase,
// etcd run from cp-1's manifest of each phase with etcdctl as kube-apiserver of each phase, kubectl with admin.conf
// and with a bootstrapped worker's kubelet.conf against the API server of each phase, service-account tokens
// against sa.pub (python's cryptography). Expected verdicts come from the phase table (test/support/tls-phases.ts),
// not from the engine.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { App } from 'cdk8s';
import { parse, stringify } from 'yaml';
import type { CaRotation } from 'cdk8s-pki';
import { SmallCluster } from '../../examples/ca-rotation/main';
import { etcdManifestFlags, intoExport } from '../support/etcd-cluster';
import { ADDRESS_FLAGS, EtcdClient, EtcdUnderTest, flagName } from '../support/etcd-process';
import { EXAMPLE_CLOCK } from '../support/example-app';
import { runOk, tempDir } from '../support/programs';
import { PhaseRun, PhaseStep, synthPhases } from '../support/rotation-phases';
import { signToken, verifyTokens } from '../support/sa-token';
import { reviewTexts, synthDiff } from '../support/synth-diff';
import { manifestFlagFile } from '../support/tls-node';
import { ADJACENT, oldAndNew, PHASE_TABLE, RunName, RUNS, tableTrusts, tlsVerdict } from '../support/tls-phases';
import { kubectlHealthz, kubectlOutcome, RecordingServer, startRecordingServer } from '../support/tls-server';
import { opensslVerifyMany, parseBundle, signerOf } from '../support/tls-verify';

const EXAMPLE_DIR = path.join(__dirname, '../../examples/ca-rotation');
const build = (app: App, rotation: CaRotation | undefined) => new SmallCluster(app, 'cluster', { caRotation: rotation });
const read = (file: string) => fs.readFileSync(file, 'utf8');

describe('each phase\'s synth, as a pull request shows it', () => {
  const run = synthPhases([...RUNS.forward], { clock: EXAMPLE_CLOCK, seed: 'example', build });
  afterAll(() => run.cleanup());

  /** The files snapshotted: all but the worker's review file, which the next test compares across phases. */
  const snapshotted = (step: PhaseStep) => Object.fromEntries(Object.entries(run.step(step).files).filter(([file]) => !file.startsWith('nodes/cluster-pki-worker-1/')));

  test.each(RUNS.forward)('%s: the only node file outside cp-1 is the worker\'s review file', (step) => {
    expect(Object.keys(run.step(step).files).filter((file) => file.startsWith('nodes/') && !file.startsWith('nodes/cluster-pki-cp-1/'))).toEqual(['nodes/cluster-pki-worker-1/kubelet/config.yaml.review']);
  });

  test('start: the manifests, PKI.md and cp-1\'s review files, whole (certificates by their SHA-256)', () => {
    expect(reviewTexts(snapshotted('start'))).toMatchSnapshot();
  });

  const PULL_REQUESTS = RUNS.forward.slice(1).map((step, i) => [step, RUNS.forward[i]] as const);
  test.each(PULL_REQUESTS)('%s: what its pull request changes from %s, file by file', (step, previous) => {
    const diff = synthDiff(snapshotted(previous), snapshotted(step));
    // Every file that changed is in the diff, and only those: abbreviating certificates hides no change.
    const files = [...new Set([...Object.keys(snapshotted(previous)), ...Object.keys(snapshotted(step))])].sort();
    expect(Object.keys(diff)).toEqual(files.filter((file) => !isDeepStrictEqual(snapshotted(previous)[file], snapshotted(step)[file])));
    expect(diff).toMatchSnapshot();
  });

  test('the worker\'s review file (its KubeletConfiguration) is the same in every phase: it names ca.crt, whose content moves', () => {
    const review = (step: PhaseStep) => run.step(step).files['nodes/cluster-pki-worker-1/kubelet/config.yaml.review'];
    expect(RUNS.forward.map(review)).toEqual(RUNS.forward.map(() => review('start')));
    expect(JSON.stringify(review('start'))).toContain('/etc/kubernetes/pki/ca.crt');
  });

  test('the walk-through shows main.ts whole, as it is, and each pull request changes its one CA_ROTATION line', () => {
    const readme = read(path.join(EXAMPLE_DIR, 'README.md'));
    const main = read(path.join(EXAMPLE_DIR, 'main.ts'));
    expect(readme).toContain(`\`\`\`ts\n${main}\`\`\`\n`);
    const line = (rotation: string) => `export const CA_ROTATION: CaRotation | undefined = ${rotation};`;
    expect(main).toContain(`\n${line('undefined')}\n`);
    const phases = ['undefined', ...['trust-both', 'issue-from-new', 'drop-old'].map((phase) => `{ id: '2027', phase: '${phase}' }`)];
    for (let i = 1; i < phases.length; i++) expect(readme).toContain(`\`\`\`diff\n-${line(phases[i - 1])}\n+${line(phases[i])}\n\`\`\`\n`);
  });
});

describe('the trust the walk-through claims at each phase, with the real programs', () => {
  const runs = new Map<RunName, PhaseRun<SmallCluster>>();
  const servers = new Map<string, RecordingServer>();
  let scratch: ReturnType<typeof tempDir> | undefined;
  const scratchDir = () => scratch ?? (scratch = tempDir('cdk8s-pki-rotation-example-'));

  beforeAll(() => {
    // No clock: issued now, so openssl and kubectl find the certificates valid.
    for (const [name, steps] of Object.entries(RUNS) as [RunName, readonly PhaseStep[]][]) runs.set(name, synthPhases([...steps], { build }));
  }, 120_000);

  afterAll(async () => {
    for (const server of servers.values()) await server.close();
    for (const run of runs.values()) run.cleanup();
    scratch?.cleanup();
  });

  const exported = (run: RunName, step: PhaseStep, node: string) => runs.get(run)!.step(step).exportNode(node);
  const file = (run: RunName, step: PhaseStep, node: string, relative: string) => path.join(exported(run, step, node), relative);

  /** The old and new CA of each bundle of cp-1, told apart by the start and trust-both bundles. */
  const BUNDLES = ['pki/ca.crt', 'pki/etcd/ca.crt', 'pki/front-proxy-ca.crt'];
  const generations = (run: RunName) => BUNDLES.map((bundle) => oldAndNew(parseBundle(read(file(run, 'start', 'cp-1', bundle))), parseBundle(read(file(run, 'trust-both', 'cp-1', bundle)))));

  /** cp-1's leaves: every certificate file of pki/ that is not a CA bundle, and admin.conf's client certificate. */
  function leaves(run: RunName, step: PhaseStep): { name: string; pem: string }[] {
    const pki = exported(run, step, 'cp-1');
    const files = fs.readdirSync(path.join(pki, 'pki'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.crt') && !BUNDLES.includes(`pki/${f}`));
    const admin = (parse(read(path.join(pki, 'admin.conf'))) as { users: { user: Record<string, string> }[] }).users[0].user;
    return [...files.sort().map((f) => ({ name: `pki/${f}`, pem: read(path.join(pki, 'pki', f)) })), { name: 'admin.conf', pem: Buffer.from(admin['client-certificate-data'], 'base64').toString('utf8') }];
  }

  test.each(Object.keys(RUNS) as RunName[])('%s run: every bundle on both nodes holds the table\'s CAs, signing CA first; every leaf is signed by the table\'s', (run) => {
    const cas = generations(run);
    const name = (c: X509Certificate) => cas.flatMap((g) => (c.raw.equals(g.old.raw) ? ['old'] : c.raw.equals(g.new.raw) ? ['new'] : []))[0] ?? c.subject;
    const authorities = cas.flatMap((g) => [g.old, g.new]);
    const found: Record<string, unknown> = {};
    const table: Record<string, unknown> = {};
    for (const step of RUNS[run]) {
      for (const [node, bundles] of [['cp-1', BUNDLES], ['worker-1', ['pki/ca.crt']]] as const) {
        for (const bundle of bundles) {
          found[`${step} ${node} ${bundle}`] = parseBundle(read(file(run, step, node, bundle))).map(name);
          table[`${step} ${node} ${bundle}`] = [...PHASE_TABLE[step].trusted];
        }
      }
      for (const leaf of leaves(run, step)) {
        const signer = signerOf(new X509Certificate(leaf.pem), authorities);
        found[`${step} ${leaf.name}`] = signer ? name(signer) : 'no CA of the rotation';
        table[`${step} ${leaf.name}`] = PHASE_TABLE[step].signs;
      }
    }
    expect(found).toEqual(table);
  });

  test('trust-both re-issues nothing: every leaf of cp-1 is the start\'s, byte for byte; issue-from-new re-issues every one', () => {
    const pems = (step: PhaseStep) => leaves('forward', step).map((leaf) => leaf.pem);
    expect(pems('trust-both')).toEqual(pems('start'));
    const before = new Set(pems('trust-both'));
    expect(pems('issue-from-new').filter((pem) => before.has(pem))).toEqual([]);
    expect(pems('issue-from-new')).toHaveLength(8);
  });

  test('which static Pods restart: trust-both changes every manifest but kube-scheduler\'s, issue-from-new every one', () => {
    const manifests = (step: PhaseStep) =>
      Object.fromEntries(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((pod) => [pod, read(file('forward', step, 'cp-1', `manifests/${pod}.yaml`))]));
    const changed = (from: PhaseStep, to: PhaseStep) => Object.keys(manifests(to)).filter((pod) => manifests(from)[pod] !== manifests(to)[pod]);
    expect(changed('start', 'trust-both')).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager']);
    expect(changed('trust-both', 'issue-from-new')).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    expect(changed('issue-from-new', 'drop-old')).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager']);
  });

  test.each(Object.keys(RUNS) as RunName[])('%s run: openssl verify of each phase\'s leaves against each phase\'s bundles, as the table says', (run) => {
    const dir = scratchDir();
    const cas = generations(run);
    const found: Record<string, string> = {};
    const table: Record<string, string> = {};
    for (const leafStep of RUNS[run]) {
      for (const [i, bundle] of BUNDLES.entries()) {
        // The leaves of this bundle's authority, each in a file, checked for the purpose its EKU names.
        const own = leaves(run, leafStep).filter((leaf) => signerOf(new X509Certificate(leaf.pem), [cas[i].old, cas[i].new]) !== undefined);
        for (const purpose of ['sslserver', 'sslclient'] as const) {
          const checked = own.filter((leaf) => new X509Certificate(leaf.pem).keyUsage?.includes(purpose === 'sslserver' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2'));
          const paths = checked.map((leaf) => dir.file(`${run}/${leafStep}/${leaf.name}`, leaf.pem));
          for (const bundleStep of RUNS[run]) {
            const verdicts = opensslVerifyMany(file(run, bundleStep, 'cp-1', bundle), purpose, paths);
            checked.forEach((leaf, n) => {
              const key = `${leafStep} ${leaf.name} (${purpose}) | ${bundleStep} ${bundle}`;
              found[key] = verdicts.get(paths[n])!.ok ? 'OK' : 'refused';
              table[key] = tableTrusts(PHASE_TABLE[leafStep].signs, bundleStep) ? 'OK' : 'refused';
            });
          }
        }
      }
    }
    expect(Object.keys(found)).toHaveLength(RUNS[run].length ** 2 * 10);
    expect(found).toEqual(table);
  });

  test('etcd run from cp-1\'s manifest of each phase, and etcdctl as kube-apiserver of each phase (--etcd-certfile, --etcd-cafile): a restart of either first works, two phases apart fails', async () => {
    const data = tempDir('cdk8s-pki-rotation-example-etcd-');
    const found: Record<string, string> = {};
    const table: Record<string, string> = {};
    const apiServerClient = (step: PhaseStep): EtcdClient => {
      const flag = (name: string) => manifestFlagFile(exported('forward', step, 'cp-1'), 'kube-apiserver', name);
      return { cert: flag('etcd-certfile'), key: flag('etcd-keyfile'), ca: flag('etcd-cafile') };
    };
    try {
      for (const server of RUNS.forward) {
        const dir = exported('forward', server, 'cp-1');
        // Only the addresses and the data directory move to this machine; every TLS flag is the manifest's.
        const flags = etcdManifestFlags(dir).filter((arg) => ![...ADDRESS_FLAGS, 'data-dir'].includes(flagName(arg))).map((arg) => intoExport(dir, arg));
        const etcd = await EtcdUnderTest.start({ flags: [...flags, `--data-dir=${data.file(server)}`], healthClient: apiServerClient(server) });
        try {
          for (const client of RUNS.forward) {
            const put = etcd.ctl(apiServerClient(client), ['put', `/rotation/${client}`, client], { commandTimeout: '2s' });
            found[`kube-apiserver of ${client} → etcd of ${server}`] = put.status === 0 && put.stdout === 'OK\n' ? 'ok' : 'refused';
            table[`kube-apiserver of ${client} → etcd of ${server}`] = tlsVerdict(client, server, true) === 'ok' ? 'ok' : 'refused';
          }
        } finally {
          await etcd.stop();
        }
      }
    } finally {
      data.cleanup();
    }
    expect(found).toEqual(table);
  }, 120_000);

  /** An API server of a phase, as cp-1's kube-apiserver manifest has it: its serving certificate, and its --client-ca-file (401 to a client it does not verify). */
  async function apiServer(run: RunName, step: PhaseStep): Promise<RecordingServer> {
    const label = `${run} ${step}`;
    if (!servers.has(label)) {
      const flag = (name: string) => read(manifestFlagFile(exported(run, step, 'cp-1'), 'kube-apiserver', name));
      servers.set(label, await startRecordingServer({ cert: flag('tls-cert-file'), key: flag('tls-private-key-file'), clientCa: flag('client-ca-file'), unverifiedClient: 'unauthorized' }));
    }
    return servers.get(label)!;
  }

  async function kubectl(kubeconfig: string, server: RecordingServer) {
    const [seenMark, refusedMark] = [server.seen.length, server.refused.length];
    const result = await kubectlHealthz(kubeconfig, server.port, scratchDir().file('kubectl-cache'));
    return kubectlOutcome(result, server.seen.slice(seenMark), server.refused.slice(refusedMark));
  }

  test('admin.conf of each phase against the API server of each phase: the adjacent ones work (hand out each phase\'s), the others are refused as the table says', async () => {
    const found: Record<string, unknown> = {};
    const table: Record<string, unknown> = {};
    for (const client of RUNS.forward) {
      for (const server of RUNS.forward) {
        found[`admin.conf of ${client} → ${server}`] = await kubectl(file('forward', client, 'cp-1', 'admin.conf'), await apiServer('forward', server));
        table[`admin.conf of ${client} → ${server}`] = tlsVerdict(client, server, true);
      }
    }
    for (const [run, a, b] of ADJACENT.filter(([run]) => run === 'rollback')) {
      for (const [client, server] of [[a, b], [b, a]]) {
        found[`${run}: admin.conf of ${client} → ${server}`] = await kubectl(file(run, client, 'cp-1', 'admin.conf'), await apiServer(run, server));
        table[`${run}: admin.conf of ${client} → ${server}`] = 'ok';
      }
    }
    expect(found).toEqual(table);
  }, 120_000);

  test('a bootstrapped worker\'s kubelet.conf (the CA it joined with) fails at issue-from-new unless given trust-both\'s pki/ca.crt, as the walk-through does', async () => {
    // What the kubelet writes once its bootstrap CSR is signed (kubelet pkg/kubelet/certificate/bootstrap): the
    // bootstrap kubeconfig's CA under the cluster "default-cluster"; the token stands in for the client
    // certificate, which this server does not ask for.
    const bootstrap = parse(read(file('forward', 'start', 'worker-1', 'bootstrap-kubelet.conf')));
    const kubeletConf = scratchDir().file('worker-1/kubelet.conf', stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'default-cluster', cluster: { 'certificate-authority-data': bootstrap.clusters[0].cluster['certificate-authority-data'], server: bootstrap.clusters[0].cluster.server } }],
      users: [{ name: 'default-auth', user: { token: bootstrap.users[0].user.token } }],
      contexts: [{ name: 'default-context', context: { cluster: 'default-cluster', user: 'default-auth' } }],
      'current-context': 'default-context',
    }));
    const flag = (step: PhaseStep, name: string) => read(manifestFlagFile(exported('forward', step, 'cp-1'), 'kube-apiserver', name));
    const tokenServers: Record<string, RecordingServer> = {};
    for (const step of ['trust-both', 'issue-from-new', 'drop-old'] as const) {
      tokenServers[step] = await startRecordingServer({ cert: flag(step, 'tls-cert-file'), key: flag(step, 'tls-private-key-file') });
      servers.set(`token ${step}`, tokenServers[step]);
    }
    const outcomes = async () => Object.fromEntries(await Promise.all(Object.entries(tokenServers).map(async ([step, server]) => [step, await kubectl(kubeletConf, server)])));
    expect(await outcomes()).toEqual({ 'trust-both': 'ok', 'issue-from-new': 'the client refuses the server', 'drop-old': 'the client refuses the server' });
    // The walk-through's command, with trust-both's ca.crt in place of the node's /etc/kubernetes/pki/ca.crt.
    runOk('kubectl', ['config', 'set-cluster', 'default-cluster', `--kubeconfig=${kubeletConf}`, `--certificate-authority=${file('forward', 'trust-both', 'worker-1', 'pki/ca.crt')}`, '--embed-certs']);
    expect(await outcomes()).toEqual({ 'trust-both': 'ok', 'issue-from-new': 'ok', 'drop-old': 'ok' });
  }, 60_000);

  test('a service-account token signed before the rotation verifies until drop-old, one of issue-from-new from trust-both on', () => {
    const saKey = (step: PhaseStep) => read(manifestFlagFile(exported('forward', step, 'cp-1'), 'kube-apiserver', 'service-account-signing-key-file'));
    const saPub = (step: PhaseStep) => read(manifestFlagFile(exported('forward', step, 'cp-1'), 'kube-apiserver', 'service-account-key-file'));
    const claims = { iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:default:my-app' };
    const cases = (['start', 'issue-from-new'] as const).flatMap((signedIn) => RUNS.forward.map((verifiedIn) => ({ signedIn, verifiedIn, token: signToken(saKey(signedIn), claims), publicKeysPem: saPub(verifiedIn) })));
    const verdicts = verifyTokens(cases);
    expect(Object.fromEntries(cases.map((c, i) => [`${c.signedIn} token in ${c.verifiedIn}`, verdicts[i]]))).toEqual({
      'start token in start': true,
      'start token in trust-both': true,
      'start token in issue-from-new': true,
      'start token in drop-old': false,
      'issue-from-new token in start': false,
      'issue-from-new token in trust-both': true,
      'issue-from-new token in issue-from-new': true,
      'issue-from-new token in drop-old': true,
    });
  });

  test('a rollback gives back the bundles of the phase it returns to, byte for byte, on both nodes', () => {
    const trustFiles = (step: PhaseStep) => [...BUNDLES, 'pki/sa.pub'].map((f) => read(file('rollback', step, 'cp-1', f))).concat(read(file('rollback', step, 'worker-1', 'pki/ca.crt')));
    expect(trustFiles('rollback-to-trust-both')).toEqual(trustFiles('trust-both'));
    expect(trustFiles('rollback-to-start')).toEqual(trustFiles('start'));
  });
});
