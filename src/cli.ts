#!/usr/bin/env node
// cdk8s-pki: thin commands over the engine and the state. Synthesis itself is `cdk8s synth`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { BOOTSTRAP_KUBECONFIG_FILE } from './kubeadm/layout';
import { SpecError, StateError } from './engine/errors';
import { rfc3339Utc } from './engine/time';
import type { InventoryEntry, PkiState } from './state/pki-state';
import { reportErrors } from './report';
import { parseWarnDuration } from './expiry/format';
import { packageManifest } from './package-manifest';

// A command loads the modules it uses when it runs: `--help` loads none of them, `list` the state but not the planner.
const load = {
  age: () => require('./state/age') as typeof import('./state/age'),
  checkExpiration: () => require('./expiry/check-expiration') as typeof import('./expiry/check-expiration'),
  environment: () => require('./state/environment') as typeof import('./state/environment'),
  expirySources: () => require('./expiry/sources') as typeof import('./expiry/sources'),
  nodeBundle: () => require('./kubeadm/node-bundle') as typeof import('./kubeadm/node-bundle'),
  pkiState: () => require('./state/pki-state') as typeof import('./state/pki-state'),
  plan: () => require('./plan/run') as typeof import('./plan/run'),
  rancherSingleNode: () => require('./rancher/single-node') as typeof import('./rancher/single-node'),
  scaffold: () => require('./scaffold/init') as typeof import('./scaffold/init'),
  rotationInventory: () => require('./report/rotation-inventory') as typeof import('./report/rotation-inventory'),
  secretPlan: () => require('./secrets/secret-plan') as typeof import('./secrets/secret-plan'),
  store: () => require('./state/store') as typeof import('./state/store'),
  listTable: () => require('./report/list-table') as typeof import('./report/list-table'),
  migrate: () => require('./state/migrate') as typeof import('./state/migrate'),
};

const DAY_MS = 86_400_000;

const out = (text: string): void => {
  process.stdout.write(text);
};

/** The app's directory: the nearest of `start` and its parents holding cdk8s.yaml, as git finds its repository. */
export function findAppDirectory(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'cdk8s.yaml'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The state directory a command works on: `--state` (relative to the working directory), else
 * `$CDK8S_PKI_STATE_DIR` or `.pki`, relative to the app's directory (where `cdk8s synth` runs, so where synth
 * wrote it). Outside an app, only an explicit directory will do.
 */
export function resolveStateDirectory(option: string | undefined, cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  if (option) return path.resolve(cwd, option);
  const app = findAppDirectory(cwd);
  const { ENV_STATE_DIR } = load.environment();
  const relative = env[ENV_STATE_DIR] || '.pki';
  if (app) return path.resolve(app, relative);
  if (path.isAbsolute(relative)) return relative;
  throw new StateError(`no cdk8s.yaml in ${cwd} or any directory above it: run cdk8s-pki in the app's directory, or name the state with --state or ${ENV_STATE_DIR}`);
}

export type ExpiryStatus = 'expired' | 'renewal due' | 'valid';

/**
 * Where a certificate stands at `now`. "renewal due": less than a third of its validity is left, the default
 * renewal window, in which the next synth re-issues it (a construct may set another window).
 */
export function expiryStatus(entry: Pick<InventoryEntry, 'notBefore' | 'notAfter'>, now: Date): ExpiryStatus {
  const left = entry.notAfter.getTime() - now.getTime();
  if (left <= 0) return 'expired';
  return left < (entry.notAfter.getTime() - entry.notBefore.getTime()) / 3 ? 'renewal due' : 'valid';
}

/** Warns when `dir` (just written) sits in a git work tree that does not ignore it: private keys beside committed code. */
function warnIfUnignoredInGit(dir: string): void {
  const git = (...args: string[]) => spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
  const top = git('rev-parse', '--show-toplevel');
  if (top.status !== 0) return; // not in a work tree, or no git
  if (git('ls-files', '--others', '--exclude-standard', '--', '.').stdout.trim() === '') return;
  process.stderr.write(`cdk8s-pki: warning: ${dir} is in the git work tree ${top.stdout.trim()} and nothing ignores it: its private keys could be committed with the code; write it outside the repository or add it to .gitignore\n`);
}

export function buildCli(): Command {
  const program = new Command('cdk8s-pki')
    .description('Inspect and steer the PKI state that `cdk8s synth` keeps for a cdk8s-pki app.')
    .version(packageManifest().version)
    .option('--state <dir|url>', 'state directory or PostgreSQL URL (default: $CDK8S_PKI_STATE when it is a postgres:// URL, else $CDK8S_PKI_STATE_DIR or .pki in the app directory, the nearest one above holding cdk8s.yaml)')
    .showHelpAfterError();
  /** The PostgreSQL URL of the state, when `--state` or `$CDK8S_PKI_STATE` names one. */
  const stateUrl = (): string | undefined => {
    const { isPostgresUrl, postgresUrlFromEnvironment } = load.environment();
    const option: string | undefined = program.opts().state;
    return option === undefined ? postgresUrlFromEnvironment() : isPostgresUrl(option) ? option : undefined;
  };
  const stateDirectory = () => resolveStateDirectory(program.opts().state);
  /**
   * The state; a directory that is not there is an error naming where it was looked for. A PostgreSQL state is
   * opened to read only (no lock, so a command never waits for a synth) unless the command `writes`.
   */
  const state = ({ writes = false } = {}): PkiState => {
    const { ENV_STATE_DIR, frozenFromEnvironment, postgresStoreFromEnvironment, stateStoreFromEnvironment, warnIfPlaintextStateTracked } = load.environment();
    const url = stateUrl();
    const frozen = frozenFromEnvironment();
    if (url) return new (load.pkiState().PkiState)({ store: postgresStoreFromEnvironment(url, process.env, !writes), frozen });
    const directory = stateDirectory();
    if (!fs.existsSync(directory)) throw new StateError(`no state directory ${directory}; run \`cdk8s synth\` in the app's directory first, or name the state with --state or ${ENV_STATE_DIR}`);
    const store = stateStoreFromEnvironment(directory);
    warnIfPlaintextStateTracked(store);
    return new (load.pkiState().PkiState)({ store, frozen });
  };
  /** Where the state is, for output: the directory, or the database (without its password). */
  const stateLocation = (): string => (stateUrl() ? state().store.location : stateDirectory());

  program
    .command('list')
    .description('list every certificate in the state with its expiry and status (EXPIRED, renewal due), like kubeadm certs check-expiration, then the CA rotations and archived CAs, the bare keys and the bootstrap tokens')
    .addOption(new Option('-o, --output <format>', 'table for people, json for programs').choices(['table', 'json']).default('table'))
    .action((options: { output: 'table' | 'json' }) => {
      const { rotationLines, rotationListing } = load.rotationInventory();
      const current = state();
      const now = new Date();
      const certificates = current.inventory().map((e) => ({ ...e, status: expiryStatus(e, now), daysLeft: Math.floor((e.notAfter.getTime() - now.getTime()) / DAY_MS) }));
      const keys = current.keyInventory();
      const tokens = current.secretInventory();
      const rotations = rotationListing(current, certificates);
      if (options.output === 'json') {
        out(`${JSON.stringify({ stateDirectory: stateLocation(), certificates, keys, tokens, rotations }, null, 2)}\n`);
        return;
      }
      if (certificates.length === 0) {
        out(`the state ${stateLocation()} holds no certificates yet; run \`cdk8s synth\`\n`);
        return;
      }
      const status = (c: (typeof certificates)[number]) => [c.status === 'expired' ? 'EXPIRED' : c.status === 'renewal due' ? 'renewal due' : 'ok', c.pendingRequest && `${c.pendingRequest} requested`].filter(Boolean).join(', ');
      const rows = certificates.map((c) => [c.slot, c.isCA ? 'CA' : '', c.issuer, `${c.keyAlgorithm} #${c.keyGeneration}`, c.notAfter.toISOString().slice(0, 10), `${c.daysLeft}d`, status(c)]);
      // At most 120 columns (caps plus 2 between columns): a long slot, issuer or status wraps within its cap.
      out(load.listTable().listTable(['SLOT', 'CA', 'ISSUER', 'KEY', 'EXPIRES', 'LEFT', 'STATUS'], rows, [40, 2, 18, 13, 10, 6, 19]));
      for (const line of rotationLines(rotations)) out(`${line}\n`);
      for (const key of keys) {
        out(`key ${key.slot}: ${key.keyAlgorithm} #${key.keyGeneration}, made ${rfc3339Utc(key.createdAt)}${key.rotationRequested ? ', key rotation requested' : ''}\n`);
      }
      for (const token of tokens) {
        const made = rfc3339Utc(token.createdAt);
        out(`token ${token.slot}: generation ${token.generation}, made ${made}${token.rotationRequested ? ', rotation requested' : ''}\n`);
      }
    });

  program
    .command('check-expiration')
    .description("print when every certificate, CA and bootstrap token expires, in kubeadm certs check-expiration's tables, from the state or (--dir) a node's /etc/kubernetes; exit 2 when anything has expired or expires within --warn")
    .option('--dir <path>', "an exported tree (a node's /etc/kubernetes: pki/, pki/etcd/, *.conf) instead of the state")
    .option('--warn <duration>', 'exit 2 when anything expires within this window (30d, 720h, 1d12h), naming each')
    .addOption(new Option('-o, --output <format>', 'table for people, json or yaml for programs').choices(['table', 'json', 'yaml']).default('table'))
    .action((options: { dir?: string; warn?: string; output: 'table' | 'json' | 'yaml' }) => {
      const { attentionLines, exitCodeOf, expirationReport, renderReport } = load.checkExpiration();
      const { stateExpiryItems, treeExpiryItems } = load.expirySources();
      const warn = options.warn === undefined ? undefined : { within: options.warn, seconds: parseWarnDuration(options.warn, '--warn') };
      const items = options.dir === undefined ? stateExpiryItems(state()) : treeExpiryItems(options.dir);
      const source = options.dir === undefined ? { state: stateLocation() } : { dir: path.resolve(options.dir) };
      const report = expirationReport(items, { now: new Date(), source, warn });
      out(renderReport(report, options.output));
      const lines = attentionLines(report);
      if (lines.length === 0) return;
      const fix = options.dir === undefined ? 'renew with `cdk8s synth` (it renews what is inside its renewal window; `cdk8s-pki renew <slot>` first for one that is not)' : 'renew in the state, then `cdk8s-pki export-node` the node again';
      process.stderr.write(`${lines.map((line) => `cdk8s-pki: ${line}`).join('\n')}\ncdk8s-pki: ${fix}\n`);
      process.exitCode = exitCodeOf(report);
    });

  program
    .command('rotate <slot>')
    .description('re-issue a certificate at the next synth (with --new-key, also give it a new key; the old key file is kept), or make a new bootstrap token')
    .option('--new-key', 'generate a new key (for a leaf or a bare key; a CA gets a new key through the phases of a rotation: `rotation` / `caRotation`)')
    .action((slot: string, options: { newKey?: boolean }) => {
      const requested = state({ writes: true }).requestRotation(slot, { newKey: options.newKey === true });
      out(`${slot}: ${requested} requested; run \`cdk8s synth\` to carry it out\n`);
    });

  program
    .command('export-node [node...]')
    .description("write a node's /etc/kubernetes tree (pki/, kubeconfigs, manifests/, kubelet config) from the state, with kubeadm's file modes; <node> or <cluster>/<node>; several nodes (or --all) go to <dir>/<node>")
    .requiredOption('--out <dir>', 'where to write it; must not exist or be empty (nothing is written unless all of it can be)')
    .option('--cluster <path>', 'the ControlPlanePki (construct path) of the node, when several clusters have a node of that name')
    .option('--all', 'every node the state has a plan for')
    .action((named: string[], options: { out: string; cluster?: string; all?: boolean }) => {
      const { exportNode, exportNodes, kubeletBootstrapFlags, nodeLabels } = load.nodeBundle();
      if (options.all === (named.length > 0)) throw new SpecError('export-node', options.all ? 'give either node names or --all, not both' : 'name the nodes to export, or give --all');
      const nodes = options.all ? nodeLabels(state()) : named;
      if (nodes.length === 0) throw new StateError('the state has no node plans; run `cdk8s synth` first');
      const single = nodes.length === 1 && !options.all;
      const exported = single ? [{ node: nodes[0], files: exportNode(state(), nodes[0], options.out, options.cluster) }] : exportNodes(state(), nodes, options.out, options.cluster);
      for (const { node, files } of exported) out(`${node}: wrote ${files.length} files to ${single ? options.out : path.join(options.out, node)}\n`);
      if (exported.some(({ files }) => files.some((f) => f.path === BOOTSTRAP_KUBECONFIG_FILE))) out(`start its kubelet with ${kubeletBootstrapFlags().join(' ')} (not kubeadm join: its preflight refuses an existing pki/ca.crt)\n`);
      warnIfUnignoredInGit(path.resolve(options.out));
    });

  program
    .command('plan')
    .description("run the app's synth without writing anything (state, output directory) and print, per certificate, key, token and node, what synth would do and why; exit 0: no changes, 2: changes, 1: error")
    .addOption(new Option('-o, --output <format>', 'text for people, json for programs (schema: src/plan/schemas/plan.schema.json)').choices(['text', 'json']).default('text'))
    .option('-v, --verbose', 'also list what is kept')
    .action((options: { output: 'text' | 'json'; verbose?: boolean }) => {
      const { formatPlan, runPlan } = load.plan();
      const { ENV_STATE, ENV_STATE_DIR } = load.environment();
      const app = findAppDirectory(process.cwd());
      if (!app) throw new StateError(`no cdk8s.yaml in ${process.cwd()} or any directory above it: run cdk8s-pki plan in the app's directory`);
      const stateOption: string | undefined = program.opts().state;
      const url = stateUrl();
      const env = url ? { ...process.env, [ENV_STATE]: url } : stateOption ? { ...process.env, [ENV_STATE]: '', [ENV_STATE_DIR]: path.resolve(stateOption) } : process.env;
      const plan = runPlan(app, env);
      out(options.output === 'json' ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan, { verbose: options.verbose === true }));
      process.exitCode = plan.changes ? 2 : 0;
    });

  program
    .command('renew [slot...]')
    .description('re-issue leaf certificates at the next synth, keeping their keys unless --rotate-keys (kubeadm certs renew); a CA is re-issued with `rotate <slot>`, and rotated to a new key in phases (`rotation` / `caRotation`)')
    .option('--all', 'every certificate of the state that is not a CA')
    .option('--rotate-keys', 'also give each a new key (the old key files are kept)')
    .action((slots: string[], options: { all?: boolean; rotateKeys?: boolean }) => {
      const all = options.all === true;
      if (all === slots.length > 0) throw new SpecError('renew', all ? 'give slots or --all, not both' : 'name the certificates to renew, or --all');
      const requested = state({ writes: true }).requestRenewal(all ? 'all' : slots, { newKey: options.rotateKeys === true });
      out(`${requested.length} certificate${requested.length === 1 ? '' : 's'}: ${options.rotateKeys ? 'key rotation' : 'renewal'} requested; run \`cdk8s synth\` to carry it out (\`cdk8s-pki plan\` shows it)\n`);
    });

  program
    .command('export-secrets')
    .description('write the Secrets that synth left out of the manifests (secret output "omit") as YAML from the state, for `kubectl apply -f DIR`; files 0600')
    .option('--namespace <namespace>', 'only the Secrets of this namespace')
    .requiredOption('--out <dir>', 'where to write them (0700): must not exist, be empty, or hold an earlier export-secrets, which is replaced whole')
    .action((options: { namespace?: string; out: string }) => {
      const files = load.secretPlan().exportSecrets(state(), options.out, options.namespace);
      out(`wrote ${files.length} Secret${files.length === 1 ? '' : 's'} to ${options.out}: ${files.join(', ')}\n`);
      warnIfUnignoredInGit(path.resolve(options.out));
    });

  program
    .command('export-rancher [construct]')
    .description(
      "for a RancherIngressTLS with install: 'docker', write what its single-node Rancher (docker run rancher/rancher) mounts into /etc/rancher/ssl from the state: cert.pem (leaf, then intermediates), key.pem (0600), cacerts.pem (a private CA only); then print its docker run line and CATTLE_CA_CHECKSUM. <construct>: the RancherIngressTLS's path or slot, when the state has several",
    )
    .requiredOption('--out <dir>', 'where to write them (0700): must not exist, be empty, or hold an earlier export-rancher, which is replaced whole')
    .option('--host-dir <dir>', 'where the files will be on the Docker host, for the -v mounts (default: --out, absolute)')
    .action((construct: string | undefined, options: { out: string; hostDir?: string }) => {
      const exported = load.rancherSingleNode().exportRancher(state(), construct, options.out, options.hostDir);
      out(`${exported.plan.construct}: wrote ${exported.files.join(', ')} to ${options.out}\n${exported.command}\n${exported.checksumLine}\n`);
      warnIfUnignoredInGit(path.resolve(options.out));
    });

  program
    .command('reencrypt')
    .description('re-encrypt every state file to a new set of age recipients (identities to read it from CDK8S_PKI_AGE_IDENTITY[_FILE]); all files are read before any is written')
    .requiredOption('--to <recipient...>', 'the new recipients (age1…)')
    .option('--encrypt-plaintext', 'also encrypt files that are not encrypted yet (moving a plaintext state to age)')
    .action((options: { to: string[]; encryptPlaintext?: boolean }) => {
      // A PostgreSQL state's key rows are insert-only, re-encryption included: copy it into a new state instead.
      if (stateUrl()) throw new SpecError('reencrypt', 'works on a state directory; for a PostgreSQL state, set the new recipients and `cdk8s-pki state migrate` it into a new state (?state=…)');
      const directory = stateDirectory();
      const { parseRecipient } = load.age();
      const identities = load.environment().ageKeysFromEnvironment()?.identities ?? [];
      options.to.forEach((recipient, i) => {
        try {
          parseRecipient(recipient);
        } catch (err) {
          throw new SpecError(`--to[${i}]`, (err as Error).message);
        }
      });
      const names = load.store().reencryptState(directory, identities, options.to, { encryptPlaintext: options.encryptPlaintext === true });
      out(`re-encrypted ${names.length} files in ${directory} to ${options.to.length} recipient${options.to.length === 1 ? '' : 's'}\n`);
    });

  program
    .command('state')
    .description('commands on the state as a whole')
    .command('migrate')
    .description('copy a whole state from one backend to another (a directory, or a postgres:// URL), then read every entry back from the target and compare; the target must be empty, the source is only read')
    .requiredOption('--from <backend>', 'the state to copy: a directory or a PostgreSQL URL')
    .requiredOption('--to <backend>', 'where to copy it: an empty or new directory, or a PostgreSQL URL whose state (?state=) is empty')
    .option('--plaintext', 'write a new target directory in plaintext even though age keys are set (a directory of plaintext files is always read as such)')
    .action((options: { from: string; to: string; plaintext?: boolean }) => {
      const { stateStoreForBackend } = load.environment();
      const open = (readOnly: boolean) => stateStoreForBackend(options.to, { plaintext: options.plaintext === true, readOnly });
      const from = stateStoreForBackend(options.from, { readOnly: true });
      const to = open(false);
      const { names } = load.migrate().migrateState(from, to, () => open(true));
      out(`copied ${names.length} entries from the ${from.location} to the ${to.location}; each read back identical\n`);
    });

  program
    .command('join-command <node>')
    .description('print the kubeadm join line for a node (endpoint, bootstrap token, --discovery-token-ca-cert-hash), as `kubeadm token create --print-join-command` does; <node> or <cluster>/<node>')
    .option('--cluster <path>', 'the ControlPlanePki (construct path) of the node, when several clusters have a node of that name')
    .action((node: string, options: { cluster?: string }) => {
      out(`${load.nodeBundle().nodeJoinCommand(state(), node, options.cluster)}\n`);
    });

  program
    .command('init [dir]')
    .description('write a new cdk8s app that declares a small cluster with cdk8s-pki into dir (default: the working directory), which must be new or empty; then print the commands to run next')
    .addHelpText(
      'after',
      `
It writes, as \`cdk8s init typescript-app\` lays an app out:
  cdk8s.yaml       cdk8s synth runs main.ts with ts-node, into dist/
  main.ts          the chart: ControlPlanePki (control-plane node cp-1, worker worker-1 joining with a
                   bootstrap token), a ClusterCA and a TlsCertificate it signs; it synthesizes only when run
  main.test.ts     a snapshot test of the whole app (manifests, PKI.md, the node files) on an in-memory,
                   seeded state and a fixed clock: it never reads .pki/ and keeps passing as time goes by
  package.json     scripts synth and test; cdk8s-pki at this version; cdk8s, constructs, cdk8s-cli,
                   typescript, ts-node, jest, ts-jest and their types pinned to the versions cdk8s-pki is tested with
  tsconfig.json    as cdk8s init typescript-app writes it; jest.config.js as it writes it too
  .gitignore       node_modules/, tsc output, the plaintext state .pki/, exported/ (export-node and
                   export-secrets trees); dist/ is committed, for review in pull requests
  README.md        the commands to run next, what is where, day 2

dir may hold .git (a repository made for the app), nothing else: init never merges into existing files.
It installs nothing: run npm install in the app, as the printed commands say.
`,
    )
    .action((dir: string = '.') => {
      const { initApp, nextCommands } = load.scaffold();
      const files = initApp(dir);
      out(`wrote a cdk8s app to ${dir}: ${files.map((file) => file.path).join(', ')}\nnext:\n${nextCommands(dir, files).map((line) => `  ${line}\n`).join('')}`);
    });

  return program;
}

if (require.main === module) {
  // A closed pipe (`cdk8s-pki list | head -1`) ends the output, not the program with a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  reportErrors(() => buildCli().parse(process.argv));
}
