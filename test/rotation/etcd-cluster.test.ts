// A real 3-member etcd cluster (cp-1..cp-3 of the reference cluster, each on a network namespace of its own at its
// node IP, kubeadm's ports) taken through an etcd CA rotation the way a control plane is: after each phase's
// synth, every member is restarted in turn onto its node's export of that phase (the flags of its
// manifests/etcd.yaml, its pki/etcd files), keeping its data. After every single restart the cluster is mixed,
// members of two phases talking peer TLS to each other, and must stay whole: all three healthy, writes
// committed, both phases' apiserver-etcd-client accepted. etcd, etcdctl, openssl, unshare, nsenter, setpriv and
// ip must be installed: the suite fails (it does not skip) without them.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { ctlOutput, EtcdClient, eventually, expectRefusedPut, flagName, flagValue, fromBeforeAll, LOG_FLAGS } from '../support/etcd-process';
import { EtcdCluster, EtcdMember, manifestEtcdFlags } from '../support/etcd-cluster';
import { processesIn } from '../support/netns';
import { PhaseRun, PhaseStep, synthPhases } from '../support/rotation-phases';

const MEMBERS = ['cp-1', 'cp-2', 'cp-3'] as const;

/** kube-apiserver's identity for etcd in `step`: cp-1's pki/apiserver-etcd-client, trusting its pki/etcd/ca.crt. */
function apiServerClient(run: PhaseRun, step: PhaseStep): EtcdClient {
  const dir = run.step(step).exportNode('cp-1');
  return { cert: `${dir}/pki/apiserver-etcd-client.crt`, key: `${dir}/pki/apiserver-etcd-client.key`, ca: `${dir}/pki/etcd/ca.crt` };
}

/** Every member's manifest flags in `step`. */
const manifests = (run: PhaseRun, step: PhaseStep) => new Map(MEMBERS.map((node) => [node, manifestEtcdFlags(run.step(step).exportNode(node))]));

/** The certificates of a PEM file, in order. */
function certificatesIn(file: string): crypto.X509Certificate[] {
  return (fs.readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => new crypto.X509Certificate(pem));
}

/** The leaf certificate a member presents on `port`, as openssl s_client on the client host receives and verifies it (CA and IP). */
function presented(cluster: EtcdCluster, ip: string, port: number, client: EtcdClient): crypto.X509Certificate {
  const result = cluster.runOnClient('openssl', ['s_client', '-connect', `${ip}:${port}`, '-cert', client.cert, '-key', client.key, '-CAfile', client.ca, '-verify_ip', ip, '-verify_return_error', '-showcerts']);
  const pem = result.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0];
  if (!pem) throw new Error(`openssl s_client got no certificate from ${ip}:${port}:\n${result.stdout}${result.stderr}`);
  return new crypto.X509Certificate(pem);
}

interface Written {
  key: string;
  value: string;
}

/** Puts a fresh value as `client` and returns it, asserting etcd said OK. */
function put(cluster: EtcdCluster, client: EtcdClient, key: string): Written {
  const value = crypto.randomBytes(6).toString('hex');
  expect(ctlOutput(cluster.ctl(client, ['put', key, value]))).toBe('exit 0\nOK\n');
  return { key, value };
}

/** Where the tests write: every key is under it, so one ranged get reads them all back. */
const PREFIX = '/phases/';

/** Everything written reads back as written (and nothing else is there), as `client`, from each member on its own. */
function expectReadableEverywhere(cluster: EtcdCluster, client: EtcdClient, written: readonly Written[]): void {
  const expected = [...written].sort((a, b) => (a.key < b.key ? -1 : 1)).map(({ key, value }) => `${key}\n${value}\n`);
  for (const member of cluster.members) {
    const got = cluster.ctl(client, ['get', PREFIX, '--prefix'], { endpoints: [member.endpoint] });
    expect(`${member.name}: ${ctlOutput(got)}`).toBe(`${member.name}: exit 0\n${expected.join('')}`);
  }
}

/**
 * After restarting `name`: the others saw it become an active peer and it saw them (each end accepted the
 * other's peer TLS), and no member refused a connection from a member's address.
 */
async function expectPeersAccepted(cluster: EtcdCluster, name: string, marks: ReadonlyMap<string, number>): Promise<void> {
  const restarted = cluster.member(name);
  const peerIps = new Set(cluster.members.map((m) => m.ip));
  const expectedActive = (member: EtcdMember) => (member === restarted ? cluster.members.filter((m) => m !== restarted).map((m) => m.id) : [restarted.id]).sort();
  const active = (member: EtcdMember) => [...new Set(member.peersActiveSince(marks.get(member.name)!))].sort();
  // Healthy needs the restarted member's link to the leader only; the other streams may come up a moment later.
  await eventually(() => cluster.members.every((m) => expectedActive(m).every((id) => active(m).includes(id))), 10_000);
  for (const member of cluster.members) {
    expect({ member: member.name, peerRejections: member.rejectionsFrom(marks.get(member.name)!).filter((r) => peerIps.has(r.from)) }).toEqual({ member: member.name, peerRejections: [] });
    expect({ member: member.name, active: active(member) }).toEqual({ member: member.name, active: expectedActive(member) });
  }
}

/**
 * Restarts every member in turn from `from`'s files onto `to`'s; after each restart, with the cluster mixed, the
 * members are healthy for both phases' clients, the restarted one serves `to`'s certificates on both ports and
 * its peer connections were accepted both ways, a put commits, and everything written so far reads back from
 * every member with both clients.
 */
async function rollingRestart(cluster: EtcdCluster, run: PhaseRun, from: PhaseStep, to: PhaseStep, written: Written[]): Promise<void> {
  const clients = [apiServerClient(run, from), apiServerClient(run, to)];
  for (const [i, name] of MEMBERS.entries()) {
    const marks = await cluster.restart(name, manifests(run, to).get(name)!, clients[1]);
    const member = cluster.member(name);
    const dir = run.step(to).exportNode(name);
    expect(presented(cluster, member.ip, 2379, clients[1]).fingerprint256).toBe(certificatesIn(`${dir}/pki/etcd/server.crt`)[0].fingerprint256);
    expect(presented(cluster, member.ip, 2380, clients[1]).fingerprint256).toBe(certificatesIn(`${dir}/pki/etcd/peer.crt`)[0].fingerprint256);
    await expectPeersAccepted(cluster, name, marks);
    for (const client of clients) {
      const health = cluster.clusterHealth(client);
      expect(health.healthy ? 'healthy' : ctlOutput(health.result)).toBe('healthy');
    }
    written.push(put(cluster, clients[i % 2], `${PREFIX}${to}/${name}`));
    for (const client of clients) expectReadableEverywhere(cluster, client, written);
  }
}

/**
 * For the enclosing describe: synthesizes `steps` on one state and starts the cluster from the start phase's
 * exports before its tests, and stops the cluster (and removes the exports) after them.
 */
function clusterThrough(steps: PhaseStep[]): { phases: () => PhaseRun; running: () => EtcdCluster } {
  let run: PhaseRun | undefined;
  let cluster: EtcdCluster | undefined;
  beforeAll(async () => {
    run = synthPhases(steps);
    cluster = await EtcdCluster.start(manifests(run, 'start'), apiServerClient(run, 'start'));
  }, 90_000);
  afterAll(async () => {
    try {
      await cluster?.stop();
    } finally {
      run?.cleanup();
    }
  }, 30_000);
  return { phases: () => fromBeforeAll(run, 'the phases were not synthesized'), running: () => fromBeforeAll(cluster, 'the cluster did not start') };
}

describe('a 3-member etcd cluster, rolled member by member through trust-both, issue-from-new and drop-old', () => {
  const STEPS: PhaseStep[] = ['start', 'trust-both', 'issue-from-new', 'drop-old'];
  const { phases, running } = clusterThrough(STEPS);
  const written: Written[] = [];

  test("the phases' etcd files are a rotation: ca.crt holds [old], [old, new], [new, old], [new]; the servers are re-issued by the new CA in issue-from-new", () => {
    const bundle = (step: PhaseStep) => certificatesIn(`${phases().step(step).exportNode('cp-2')}/pki/etcd/ca.crt`);
    const server = (step: PhaseStep) => certificatesIn(`${phases().step(step).exportNode('cp-2')}/pki/etcd/server.crt`)[0];
    const [old] = bundle('start');
    const [newCa] = bundle('drop-old');
    expect(old.fingerprint256).not.toBe(newCa.fingerprint256);
    expect(old.subject).toBe(newCa.subject);
    const fingerprints = (step: PhaseStep) => bundle(step).map((c) => c.fingerprint256);
    expect(STEPS.map(fingerprints)).toEqual([[old.fingerprint256], [old.fingerprint256, newCa.fingerprint256], [newCa.fingerprint256, old.fingerprint256], [newCa.fingerprint256]]);
    expect(STEPS.map((step) => [server(step).verify(old.publicKey), server(step).verify(newCa.publicKey)])).toEqual([
      [true, false],
      [true, false],
      [false, true],
      [false, true],
    ]);
  });

  test("each member runs its node's manifests/etcd.yaml as exported, kubeadm's addresses and ports included; only --data-dir is replaced", () => {
    for (const member of running().members) {
      const manifest = manifestEtcdFlags(phases().step('start').exportNode(member.name));
      const passed = member.args.filter((arg) => !(LOG_FLAGS as readonly string[]).includes(arg));
      const exceptData = (args: readonly string[]) => args.filter((arg) => flagName(arg) !== 'data-dir');
      expect(exceptData(passed)).toEqual(exceptData(manifest));
      expect(flagValue(passed, 'data-dir')).toBe(member.dataDir);
      expect([flagValue(passed, 'name'), flagValue(passed, 'listen-peer-urls'), flagValue(passed, 'advertise-client-urls')]).toEqual([member.name, `https://${member.ip}:2380`, `https://${member.ip}:2379`]);
    }
  });

  test("start: the three members, each from its node's export, form a healthy cluster; the apiserver-etcd-client puts and gets a key", () => {
    const client = apiServerClient(phases(), 'start');
    expect(running().clusterHealth(client)).toMatchObject({ healthy: true });
    written.push(put(running(), client, `${PREFIX}start`));
    expectReadableEverywhere(running(), client, written);
  });

  test('start → trust-both, one member at a time: the mixed cluster stays whole', async () => {
    await rollingRestart(running(), phases(), 'start', 'trust-both', written);
  }, 90_000);

  test('trust-both → issue-from-new, one member at a time: members with new-CA certificates and members with old ones accept each other', async () => {
    await rollingRestart(running(), phases(), 'trust-both', 'issue-from-new', written);
  }, 90_000);

  test('issue-from-new → drop-old, one member at a time: the mixed cluster stays whole', async () => {
    await rollingRestart(running(), phases(), 'issue-from-new', 'drop-old', written);
  }, 90_000);

  test("after drop-old, every member refuses the start phase's apiserver-etcd-client certificate (old CA) and writes nothing", async () => {
    // The client trusts drop-old's ca.crt, so the handshake gets as far as etcd judging its certificate.
    const oldCertificate: EtcdClient = { ...apiServerClient(phases(), 'start'), ca: apiServerClient(phases(), 'drop-old').ca };
    for (const name of MEMBERS) {
      await expectRefusedPut(
        running().judging(name),
        oldCertificate,
        `${PREFIX}refused/${name}`,
        // The new CA has the old one's subject, so Go finds it as the candidate issuer and says why it failed.
        /^tls: failed to verify client certificate: x509: certificate signed by unknown authority \(possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "etcd-ca"\)$/,
        apiServerClient(phases(), 'drop-old'),
      );
    }
  });

  test("after drop-old, a client trusting only the start phase's etcd ca.crt refuses every member's server certificate", async () => {
    const dropOld = apiServerClient(phases(), 'drop-old');
    const trustingOld: EtcdClient = { ...dropOld, ca: apiServerClient(phases(), 'start').ca };
    for (const name of MEMBERS) {
      const judged = running().judging(name);
      const mark = judged.logMark();
      const ctl = judged.ctl(trustingOld, ['put', `${PREFIX}untrusted/${name}`, 'x'], { commandTimeout: '1s', debug: true });
      expect(ctl.status).not.toBe(0);
      expect(ctl.stderr).toMatch(/x509: certificate signed by unknown authority/);
      // etcd hears why: the client aborted the handshake over the server's certificate.
      expect(await judged.rejectionsSince(mark, /^remote error: tls: bad certificate$/)).toContain('remote error: tls: bad certificate');
      expect(ctlOutput(judged.ctl(dropOld, ['get', `${PREFIX}untrusted/${name}`, '--print-value-only']))).toBe('exit 0\n');
    }
  });
});

describe('a 3-member etcd cluster rolled back from issue-from-new to trust-both', () => {
  const STEPS: PhaseStep[] = ['start', 'trust-both', 'issue-from-new', 'rollback-to-trust-both'];
  const { phases, running } = clusterThrough(STEPS);
  const written: Written[] = [];

  test('rolling restarts onto trust-both, issue-from-new and the rolled-back trust-both keep the cluster whole and every key written before', async () => {
    written.push(put(running(), apiServerClient(phases(), 'start'), `${PREFIX}start`));
    await rollingRestart(running(), phases(), 'start', 'trust-both', written);
    await rollingRestart(running(), phases(), 'trust-both', 'issue-from-new', written);
    await rollingRestart(running(), phases(), 'issue-from-new', 'rollback-to-trust-both', written);
  }, 110_000);

  test("the rolled-back members serve certificates of the old CA again, and the start phase's client is accepted by all", () => {
    const [old] = certificatesIn(apiServerClient(phases(), 'start').ca);
    for (const member of running().members) {
      expect(presented(running(), member.ip, 2379, apiServerClient(phases(), 'rollback-to-trust-both')).verify(old.publicKey)).toBe(true);
    }
    expect(running().clusterHealth(apiServerClient(phases(), 'start'))).toMatchObject({ healthy: true });
    expectReadableEverywhere(running(), apiServerClient(phases(), 'start'), written);
  });

  test('stopping the cluster leaves no process in any of its network namespaces', async () => {
    const namespaces = running().network.namespaces;
    expect(namespaces).toHaveLength(MEMBERS.length + 2); // the bridge's, each member's, the client host's
    expect(processesIn(namespaces).length).toBeGreaterThan(MEMBERS.length);
    await running().stop();
    expect(processesIn(namespaces)).toEqual([]);
  });
});
