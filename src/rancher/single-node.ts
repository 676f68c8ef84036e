/**
 * Rancher on a single node (`docker run rancher/rancher`) from the same RancherIngressTLS as a Helm install: the
 * files mounted into /etc/rancher/ssl, the container's flags and CATTLE_CA_CHECKSUM, per mode. Sources:
 * rancher-docs "Installing Rancher on a Single Node Using Docker" (options A to D) and "Docker Install with TLS
 * Termination at Layer-7 NGINX Load Balancer"; rancher/rancher pkg/tls/tls.go (readConfig), which reads the
 * files. No cdk8s here.
 */
import * as path from 'node:path';
import { SpecError, StateError } from '../engine/errors';
import { rancherCaChecksum, rancherServedCacerts } from '../engine/pem';
import { writeTree } from '../output-tree';
import { PlannedContent, renderContent } from '../content/planned-content';
import plannedContentSchema from '../content/schemas/planned-content.schema.json';
import { schemaCheck } from '../state/documents';
import { PkiState } from '../state/pki-state';
import { cacertsChecksumCommand, RancherInstall, RancherTlsMode, SINGLE_NODE_PLANS } from './modes';
import { rancherSlots } from './plan';
import singleNodePlanSchema from './schemas/single-node-plan.schema.json';

/** What synth records per RancherIngressTLS with `install: 'docker'`, for `cdk8s-pki export-rancher`. */
export interface SingleNodePlan {
  /** The construct's path, which messages name. */
  readonly construct: string;
  readonly hostname: string;
  readonly mode: RancherTlsMode;
  /** The chart version, whose image is `rancher/rancher:v<version>`. */
  readonly version: string;
  /** `secret` mode: the certificate served (leaf, then intermediates) and its key. */
  readonly certificate?: { readonly chainPem: string; readonly key: PlannedContent };
  /** The CA agents pin, when one is uploaded. */
  readonly cacertsPem?: string;
}

/** A file Rancher reads from /etc/rancher/ssl, exported under the same name. */
export type RancherSslFile = 'cert.pem' | 'key.pem' | 'cacerts.pem';

const RANCHER_SSL_DIRECTORY = '/etc/rancher/ssl';
const FILE_MODES: Readonly<Record<RancherSslFile, number>> = { 'cert.pem': 0o644, 'key.pem': 0o600, 'cacerts.pem': 0o644 };

/** How the container starts in a mode: what it mounts, the arguments after the image, and what agents pin. */
export interface SingleNodeLaunch {
  readonly files: readonly { readonly name: RancherSslFile; readonly content: PlannedContent }[];
  /** After the image: `--no-cacerts`, or `--acme-domain <hostname>`. */
  readonly args: readonly string[];
  /** CATTLE_CA_CHECKSUM: hex SHA-256 of cacerts.pem, "" when cacerts is empty, undefined when Rancher makes its CA at first start. */
  readonly caChecksum?: string;
  readonly caChecksumReason: string;
  /** Why nothing is mounted, in the modes that mount nothing. */
  readonly nothingToExport?: string;
}

const NO_CACERTS_REASON = 'empty: Rancher runs with --no-cacerts, so agents verify it with their system trust store';

/**
 * The launch of `plan`, as readConfig reads it: with --acme-domain, Rancher gets its certificate itself and
 * cacerts is empty whatever is mounted; a mounted cert.pem and key.pem need exactly one of cacerts.pem (a
 * private CA) and --no-cacerts (a public one); without them (TLS ends in front), cacerts.pem says the front's
 * CA is private and --no-cacerts that it is public (with neither, agents would pin a CA Rancher makes, which
 * signs nothing the front serves).
 */
export function singleNodeLaunch(plan: SingleNodePlan): SingleNodeLaunch {
  const cacerts = plan.cacertsPem === undefined ? [] : [{ name: 'cacerts.pem' as const, content: { kind: 'text' as const, text: rancherServedCacerts(plan.cacertsPem) } }];
  const pinned =
    plan.cacertsPem === undefined
      ? { args: ['--no-cacerts'], caChecksum: '', caChecksumReason: NO_CACERTS_REASON }
      : { args: [], caChecksum: rancherCaChecksum(plan.cacertsPem), caChecksumReason: `sha256sum of cacerts.pem; once Rancher runs, ${cacertsChecksumCommand(plan.hostname)} prints it` };
  switch (plan.mode) {
    case 'rancher':
      return {
        files: [],
        args: [],
        caChecksumReason: `known once it runs: ${cacertsChecksumCommand(plan.hostname)} prints it`,
        nothingToExport: 'Rancher makes its own CA and certificate when it first starts, so no file is mounted',
      };
    case 'letsEncrypt':
      return {
        files: [],
        args: ['--acme-domain', plan.hostname],
        caChecksum: '',
        caChecksumReason: 'empty: with --acme-domain Rancher runs without cacerts, so agents verify it with their system trust store',
        nothingToExport:
          `with --acme-domain Rancher gets its certificate from Let's Encrypt itself (HTTP-01: ${plan.hostname} must resolve to the host, port 80 open to all)` +
          (plan.cacertsPem === undefined ? '' : ' and reads no cacerts.pem, so the cacertsPem of the construct is not used and agents in strict mode cannot verify Rancher'),
      };
    case 'secret': {
      const { chainPem, key } = plan.certificate!;
      return { files: [{ name: 'cert.pem', content: { kind: 'text', text: chainPem } }, { name: 'key.pem', content: key }, ...cacerts], ...pinned };
    }
    case 'external':
      return {
        files: cacerts,
        ...pinned,
        ...(plan.cacertsPem === undefined && { nothingToExport: 'TLS ends in front of Rancher at a public CA\'s certificate, so no file is mounted' }),
      };
  }
}

/** The image of `version`: Rancher's image tags are its versions with a leading v. */
function rancherImage(version: string): string {
  return `rancher/rancher:${version.startsWith('v') ? version : `v${version}`}`;
}

/** A word as a POSIX shell reads it back unchanged. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * `docker run` as Rancher's docs write it, each group of words on a line of its own (`multiLine`) or all on
 * one: ports, a -v per file from `hostDirectory` to /etc/rancher/ssl, --privileged, the image, its arguments.
 */
export function dockerRunCommand(plan: SingleNodePlan, hostDirectory: string, options: { readonly multiLine: boolean }): string {
  const launch = singleNodeLaunch(plan);
  const groups = [
    ['docker', 'run', '-d', '--restart=unless-stopped'],
    ['-p', '80:80', '-p', '443:443'],
    ...launch.files.map(({ name }) => ['-v', `${path.posix.join(hostDirectory, name)}:${RANCHER_SSL_DIRECTORY}/${name}`]),
    ['--privileged'],
    [rancherImage(plan.version)],
    ...(launch.args.length > 0 ? [[...launch.args]] : []),
  ].map((group) => group.map(shellWord).join(' '));
  return groups.join(options.multiLine ? ' \\\n  ' : ' ');
}

const checkSingleNodePlan = schemaCheck<SingleNodePlan>(singleNodePlanSchema, plannedContentSchema);

const INSTALLS: readonly RancherInstall[] = ['helm', 'docker'];

/**
 * The `install` prop, "helm" when unset: a Helm install records nothing for export-rancher, so an app written
 * before the prop existed keeps its state as it was.
 */
export function checkRancherInstall(install: unknown): RancherInstall {
  if (install === undefined) return 'helm';
  if (!INSTALLS.includes(install as RancherInstall)) throw new SpecError('install', `must be "helm" or "docker" (got ${JSON.stringify(install)})`);
  return install as RancherInstall;
}

/** Why export-rancher has nothing for a RancherIngressTLS installed with Helm, and the prop that changes it. */
const HELM_INSTALL = `is "helm" (the default), which export-rancher has nothing for; for Rancher on a single node (docker run), set install: 'docker' on the RancherIngressTLS and synth again`;

/** Stages `plan` as the single-node plan of the RancherIngressTLS at `slot`. */
export function recordSingleNodePlan(state: PkiState, slot: string, plan: SingleNodePlan): void {
  state.putDocument(`${SINGLE_NODE_PLANS}/${slot}`, plan, checkSingleNodePlan);
}

/**
 * The plan of the RancherIngressTLS named by `construct` (its state slot or its path); without one, the only
 * RancherIngressTLS of the state with `install: 'docker'`. One installed with Helm is refused, naming the prop.
 */
export function readSingleNodePlan(state: PkiState, construct?: string): SingleNodePlan {
  const plans = state.documentNames(SINGLE_NODE_PLANS).map((name) => ({ slot: name.slice(SINGLE_NODE_PLANS.length + 1), plan: state.readDocument(name, checkSingleNodePlan)! }));
  const docker = new Set(plans.map((p) => p.slot));
  const helm = rancherSlots(state).filter((slot) => !docker.has(slot));
  const known = () => [...plans.map((p) => p.slot), ...helm.map((slot) => `${slot} (Helm)`)].sort().join(', ');
  if (construct === undefined) {
    if (plans.length === 1) return plans[0].plan;
    if (plans.length > 1) throw new SpecError('construct', `the state holds ${plans.length} RancherIngressTLS with install: 'docker' (${[...docker].join(', ')}); name one`);
    if (helm.length === 1) throw new SpecError('install', HELM_INSTALL, helm[0]);
    if (helm.length > 1) throw new SpecError('install', `of every RancherIngressTLS of the state (${helm.join(', ')}) ${HELM_INSTALL}`);
    throw new StateError('the state holds no RancherIngressTLS; run `cdk8s synth` first');
  }
  const found = plans.find((p) => p.slot === construct) ?? plans.find((p) => p.plan.construct === construct);
  if (found) return found.plan;
  if (helm.includes(construct)) throw new SpecError('install', HELM_INSTALL, construct);
  throw new SpecError('construct', `no RancherIngressTLS "${construct}" in the state; it holds ${known() || 'none'}`);
}

/** `CATTLE_CA_CHECKSUM: <hex, "" or unknown> (<why>)`. */
function checksumLine(launch: SingleNodeLaunch): string {
  const checksum = launch.caChecksum === undefined ? 'unknown' : launch.caChecksum === '' ? '""' : launch.caChecksum;
  return `CATTLE_CA_CHECKSUM: ${checksum} (${launch.caChecksumReason})`;
}

/** What export-rancher wrote and what to run with it. */
export interface RancherExport {
  readonly plan: SingleNodePlan;
  readonly files: readonly RancherSslFile[];
  /** `docker run …`, one group of words a line. */
  readonly command: string;
  /** The CATTLE_CA_CHECKSUM agents are given, and why it is what it is. */
  readonly checksumLine: string;
}

/**
 * Writes the files the container of `construct` mounts to `outDir` (mode 0700; key.pem 0600, the certificates
 * 0644) as one tree: `outDir` must not exist, be empty, or hold an earlier export-rancher, which is replaced
 * whole. `hostDirectory` is where they will be on the Docker host (default: `outDir`, absolute). A mode that
 * mounts nothing is refused with its docker run line.
 */
export function exportRancher(state: PkiState, construct: string | undefined, outDir: string, hostDirectory: string = path.resolve(outDir)): RancherExport {
  // docker run takes a -v source that is not an absolute path for the name of a volume.
  if (!path.posix.isAbsolute(hostDirectory)) throw new SpecError('--host-dir', `"${hostDirectory}" is not an absolute path on the Docker host`);
  const plan = readSingleNodePlan(state, construct);
  const launch = singleNodeLaunch(plan);
  if (launch.nothingToExport !== undefined) {
    const command = dockerRunCommand(plan, hostDirectory, { multiLine: false });
    throw new SpecError('mode', `"${plan.mode}" has nothing to export: ${launch.nothingToExport}; ${checksumLine(launch)}; start it with ${command}`, plan.construct);
  }
  const files = launch.files.map(({ name, content }) => ({ path: name, mode: FILE_MODES[name], data: renderContent(state, content) }));
  writeTree(outDir, { files, mode: 0o700, replaceable: 'export-rancher' });
  return {
    plan,
    files: launch.files.map((f) => f.name),
    command: dockerRunCommand(plan, hostDirectory, { multiLine: true }),
    checksumLine: checksumLine(launch),
  };
}
