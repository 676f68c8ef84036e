// Two more places a rotating authority is trusted, with real programs at each step of the rotation: Rancher's
// agents, which reach the server with cacerts.pem (curl here) and pin its CATTLE_CA_CHECKSUM (sha256sum here),
// and the service-account keys, whose tokens kube-apiserver accepts when a key of sa.pub verifies them (python's
// `cryptography` here, keys compared through openssl). Expected verdicts come from the phase table (tls-phases.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { App } from 'cdk8s';
import { privateKeyToPem } from '../../src/engine/keys';
import { PhaseRun, PhaseStep, synthPhases } from '../support/rotation-phases';
import { runOk, tempDir } from '../support/programs';
import { signToken, verifyTokens } from '../support/sa-token';
import { manifestFlagFile } from '../support/tls-node';
import { ADJACENT, Generation, oldAndNew, OWN_STEPS, PHASE_TABLE, RunName, RUNS, tableTrusts } from '../support/tls-phases';
import { curlHttps, RecordingServer, startRecordingServer } from '../support/tls-server';
import { parseBundle, pemCertificates, signerOf } from '../support/tls-verify';

const HOSTNAME = 'rancher.example.internal';
const RANCHER_BODY = 'rancher';

const runs = new Map<RunName, PhaseRun>();
let scratch: ReturnType<typeof tempDir> | undefined;

beforeAll(() => {
  // No clock: the certificates are issued now, so curl finds them valid.
  for (const [name, steps] of Object.entries(RUNS) as [RunName, readonly PhaseStep[]][]) runs.set(name, synthPhases([...steps]));
  scratch = tempDir('cdk8s-pki-rancher-tokens-');
}, 120_000);

afterAll(() => {
  for (const phaseRun of runs.values()) phaseRun.cleanup();
  scratch?.cleanup();
});

const scratchDir = () => {
  if (!scratch) throw new Error('no scratch directory');
  return scratch;
};

function synthesized(runName: RunName, step: PhaseStep) {
  const phaseRun = runs.get(runName);
  if (!phaseRun) throw new Error(`the ${runName} run was not synthesized`);
  return phaseRun.step(step);
}

describe('Rancher: curl with the step\'s cacerts.pem against a server holding the step\'s Rancher certificate', () => {
  interface RancherStep {
    /** The synthesized tls-ca Secret's cacerts.pem, and where the test wrote it for curl. */
    readonly cacerts: string;
    readonly cacertsFile: string;
    /** The served chain (tls.crt: leaf, then any intermediates) and the checksum line of the values file. */
    readonly tlsCrt: string;
    readonly valuesFile: string;
    readonly server: RecordingServer;
  }
  const steps = new Map<string, RancherStep>();

  async function rancherOf(runName: RunName, step: PhaseStep): Promise<RancherStep> {
    const label = `${runName} ${step}`;
    const known = steps.get(label);
    if (known) return known;
    const { chart, state, manifests } = synthesized(runName, step);
    const documents = manifests as { kind: string; metadata: { name: string }; data?: Record<string, string> }[];
    const secret = documents.find((doc) => doc.kind === 'Secret' && doc.metadata.name === 'tls-ca');
    if (!secret?.data?.['cacerts.pem']) throw new Error(`${label}: no Secret tls-ca with cacerts.pem`);
    const cacerts = Buffer.from(secret.data['cacerts.pem'], 'base64').toString('utf8');
    // tls-rancher-ingress is sealed in the example, so its material is read from the construct and the state.
    const serving = chart.rancher.servingCertificate;
    if (!serving) throw new Error(`${label}: Rancher has no serving certificate`);
    const key = privateKeyToPem(state.privateKey(serving.keyReference.slot, serving.keyReference.generation));
    const made: RancherStep = {
      cacerts,
      cacertsFile: scratchDir().file(`${runName}/${step}/cacerts.pem`, cacerts),
      tlsCrt: serving.fullChainPem,
      // As the synth wrote it beside the manifests, once the state committed.
      valuesFile: fs.readFileSync(path.join(App.of(chart).outdir, chart.rancher.valuesFileName), 'utf8'),
      server: await startRecordingServer({ cert: serving.fullChainPem, key, body: RANCHER_BODY }),
    };
    steps.set(label, made);
    return made;
  }

  afterAll(async () => {
    for (const s of steps.values()) await s.server.close();
  });

  test.each(Object.keys(RUNS) as RunName[])('%s run: cacerts.pem is the table\'s bundle of the ingress CA, and the served leaf is signed by the table\'s CA', async (runName) => {
    const all = await Promise.all(RUNS[runName].map((step) => rancherOf(runName, step)));
    const cas = oldAndNew(parseBundle(all[0].cacerts), parseBundle(all[1].cacerts));
    const name = (c: X509Certificate | undefined): string => (c?.raw.equals(cas.old.raw) ? 'old' : c?.raw.equals(cas.new.raw) ? 'new' : (c?.subject ?? 'none'));
    const found = RUNS[runName].map((step, i) => ({
      step,
      cacerts: parseBundle(all[i].cacerts).map(name),
      signedBy: name(signerOf(new X509Certificate(pemCertificates(all[i].tlsCrt)[0]), [cas.old, cas.new])),
    }));
    // cacerts.pem keeps the old CA first for the whole rotation: Rancher's agents pin its bytes, so only adding and dropping a CA change them.
    const oldFirst = (trusted: readonly ('old' | 'new')[]) => [...trusted].sort((a, b) => (a === b ? 0 : a === 'old' ? -1 : 1));
    expect(found).toEqual(RUNS[runName].map((step) => ({ step, cacerts: oldFirst(PHASE_TABLE[step].trusted), signedBy: PHASE_TABLE[step].signs })));
  });

  test.each(OWN_STEPS)('%s %s: accepted', async (runName, step) => {
    const rancher = await rancherOf(runName, step);
    expect(await curlHttps({ cacert: rancher.cacertsFile }, HOSTNAME, rancher.server.port)).toEqual({ status: 0, stdout: RANCHER_BODY, stderr: '' });
  });

  test.each(ADJACENT.flatMap(([r, a, b]) => [[r, a, b] as const, [r, b, a] as const]))('%s run: cacerts of %s, server of %s: accepted', async (runName, agents, server) => {
    const [client, served] = [await rancherOf(runName, agents), await rancherOf(runName, server)];
    expect(await curlHttps({ cacert: client.cacertsFile }, HOSTNAME, served.server.port)).toEqual({ status: 0, stdout: RANCHER_BODY, stderr: '' });
  });

  test.each([
    ['start', 'drop-old'],
    ['drop-old', 'start'],
  ] as const)('cacerts of %s, server of %s: refused (curl exit 60, the certificate is not trusted)', async (agents, server) => {
    const [client, served] = [await rancherOf('forward', agents), await rancherOf('forward', server)];
    const mark = served.server.seen.length;
    const result = await curlHttps({ cacert: client.cacertsFile }, HOSTNAME, served.server.port);
    expect({ status: result.status, stdout: result.stdout }).toEqual({ status: 60, stdout: '' });
    expect(result.stderr).toMatch(/unable to get local issuer certificate/);
    expect(served.server.seen.slice(mark)).toEqual([]);
  });

  test.each(OWN_STEPS)('%s %s: CATTLE_CA_CHECKSUM in the values file is sha256sum of the trimmed cacerts.pem plus a newline', async (runName, step) => {
    const rancher = await rancherOf(runName, step);
    // Go's strings.TrimSpace; the PEM holds no other Unicode space, which the constructs' own suite covers.
    const trimmed = rancher.cacerts.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, '');
    const expected = /^([0-9a-f]{64}) {2}-\n$/.exec(runOk('sha256sum', [], { input: `${trimmed}\n` }))?.[1];
    expect(expected).toBeDefined();
    expect(rancher.valuesFile).toContain(`# CATTLE_CA_CHECKSUM: ${expected}\n`);
  });
});

describe('service-account tokens: signed with the step\'s sa.key, verified with the keys of each step\'s sa.pub', () => {
  /** A public key as openssl re-encodes it: the identity of a key, whatever the layout of the PEM it came in. */
  function opensslPublicKey(pem: string, isPrivate: boolean): string {
    return runOk('openssl', ['pkey', isPrivate ? '-pubout' : '-pubin'], { input: pem });
  }

  const PUBLIC_KEY_BLOCK = /-----BEGIN PUBLIC KEY-----\r?\n[\s\S]+?-----END PUBLIC KEY-----\r?\n?/g;

  /**
   * cp-1's signing key and verifying keys of each step of a run, where kube-apiserver's manifest points
   * (--service-account-signing-key-file, --service-account-key-file: sa.key and sa.pub), named old/new by the
   * start and trust-both steps.
   */
  function keysOf(runName: RunName) {
    const files = RUNS[runName].map((step) => {
      const flagFile = (flag: string) => fs.readFileSync(manifestFlagFile(synthesized(runName, step).exportNode('cp-1'), 'kube-apiserver', flag), 'utf8');
      const saKey = flagFile('service-account-signing-key-file');
      const saPub = flagFile('service-account-key-file');
      return { step, saKey, saPub, signing: opensslPublicKey(saKey, true), verifying: (saPub.match(PUBLIC_KEY_BLOCK) ?? []).map((block) => opensslPublicKey(block, false)) };
    });
    const [start, trustBoth] = files;
    if (start.verifying.length !== 1) throw new Error(`start's sa.pub holds ${start.verifying.length} keys`);
    const old = start.verifying[0];
    const others = trustBoth.verifying.filter((k) => k !== old);
    if (others.length !== 1) throw new Error(`trust-both's sa.pub holds ${others.length} keys besides the old one`);
    const generation = (key: string): Generation | 'unknown' => (key === old ? 'old' : key === others[0] ? 'new' : 'unknown');
    return { files, generation };
  }

  test.each(Object.keys(RUNS) as RunName[])('%s run: sa.key is the table\'s signing key and sa.pub the table\'s keys, signing first, alike on every control-plane node', (runName) => {
    const { files, generation } = keysOf(runName);
    // Any kube-apiserver may verify a token another one signed.
    for (const step of RUNS[runName]) {
      const pki = (node: string) => ['sa.key', 'sa.pub'].map((name) => fs.readFileSync(path.join(synthesized(runName, step).exportNode(node), 'pki', name), 'utf8'));
      expect({ step, 'cp-2': pki('cp-2'), 'cp-3': pki('cp-3') }).toEqual({ step, 'cp-2': pki('cp-1'), 'cp-3': pki('cp-1') });
    }
    expect(files.map((f) => ({ step: f.step, signs: generation(f.signing), trusted: f.verifying.map(generation) }))).toEqual(
      RUNS[runName].map((step) => ({ step, signs: PHASE_TABLE[step].signs, trusted: [...PHASE_TABLE[step].trusted] })),
    );
  });

  test.each(Object.keys(RUNS) as RunName[])('%s run: a token of each step verifies in exactly the steps whose sa.pub trusts its key', (runName) => {
    const { files } = keysOf(runName);
    const claims = { iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:kube-system:default', aud: ['https://kubernetes.default.svc.cluster.local'] };
    const tokens = files.map((f) => ({ step: f.step, token: signToken(f.saKey, { ...claims, signedIn: f.step }) }));
    const cases = tokens.flatMap((t) => files.map((f) => ({ signedIn: t.step, verifiedIn: f.step, token: t.token, publicKeysPem: f.saPub })));
    // A control the verifier must refuse: the start token with its payload changed, under start's own sa.pub.
    const [header, , signature] = tokens[0].token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url')}.${signature}`;
    const verdicts = verifyTokens([...cases, { token: forged, publicKeysPem: files[0].saPub }]);
    expect(verdicts.at(-1)).toBe(false);
    expect(Object.fromEntries(cases.map((c, i) => [`${c.signedIn} token in ${c.verifiedIn}`, verdicts[i]]))).toEqual(
      Object.fromEntries(cases.map((c) => [`${c.signedIn} token in ${c.verifiedIn}`, tableTrusts(PHASE_TABLE[c.signedIn].signs, c.verifiedIn)])),
    );
    if (runName === 'forward') {
      // As the issue says it: the old key's token verifies in start, trust-both and issue-from-new and not in drop-old; the new key's from trust-both on.
      const verdict = (signedIn: PhaseStep, verifiedIn: PhaseStep) => verdicts[cases.findIndex((c) => c.signedIn === signedIn && c.verifiedIn === verifiedIn)];
      expect(RUNS.forward.map((step) => [step, verdict('start', step)])).toEqual([['start', true], ['trust-both', true], ['issue-from-new', true], ['drop-old', false]]);
      expect(RUNS.forward.map((step) => [step, verdict('issue-from-new', step)])).toEqual([['start', false], ['trust-both', true], ['issue-from-new', true], ['drop-old', true]]);
    }
  });
});
