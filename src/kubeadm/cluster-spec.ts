import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { SpecError } from '../engine/errors';
import { DEFAULT_KEY_ALGORITHM, KeyAlgorithm } from '../engine/keys';
import { canonicalIp } from '../engine/x509';
import { hostBitsReason, isDnsName, isIpAddress, isPort, parseCidr } from '../engine/names';
import { checkSchema, compileSchema } from '../engine/spec';
import clusterSpecSchema from './schemas/cluster-spec.schema.json';
import { parseGoDuration } from '../engine/go-duration';
import type { CaRotation } from '../state/rotation-policy';
import type { CaId } from './catalog';

/** A node of the cluster. */
export interface NodeSpec {
  /** The node name: etcd's member name and certificate CN, kubelet's `system:node:<name>`. */
  readonly name: string;
  /** `control-plane` (static Pods, the control-plane certificates) or `worker` (a kubelet). */
  readonly role: 'control-plane' | 'worker';
  /** The advertise address; required for control-plane nodes. */
  readonly ip?: string;
  /** Further addresses of the node, added to its apiserver and etcd SANs. */
  readonly additionalIps?: string[];
}

/**
 * One cluster's control-plane PKI, as data: the same shape in TypeScript and in a YAML/JSON file, checked by
 * `schemas/cluster-spec.schema.json` (which documents every field and its default).
 */
export interface ClusterSpec {
  /** The cluster's name in every kubeconfig. @default - "kubernetes" */
  readonly clusterName?: string;
  /**
   * host[:port], no scheme: the load balancer or DNS name every kubeconfig and `kubeadm join` use; its host is an
   * apiserver SAN. Required with more than one control-plane node.
   * @default - the first control-plane node's ip and `bindPort`
   */
  readonly controlPlaneEndpoint?: string;
  /** kube-apiserver's --secure-port. @default - 6443 */
  readonly bindPort?: number;
  /** The service CIDRs, one per family; the primary one's first IP is an apiserver SAN. @default - ["10.96.0.0/12"] */
  readonly serviceSubnets?: string[];
  /** The cluster DNS domain of the `kubernetes.default.svc.<domain>` SAN. @default - "cluster.local" */
  readonly dnsDomain?: string;
  /** Decides the image tags and etcd's flags. @default - "v1.31.0" */
  readonly kubernetesVersion?: string;
  /** The algorithm of every key (RSA or ECDSA: kube-apiserver reads no Ed25519 service-account key). @default - "ecdsa-p256" */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Go duration, e.g. "8760h". */
  readonly certificateValidity?: string;
  /** Go duration, e.g. "87600h". */
  readonly caCertificateValidity?: string;
  /** Extra names and addresses of the apiserver certificate (a load balancer's, say). @default - none */
  readonly apiServerCertSANs?: string[];
  /** Extra SANs of etcd's certificates. @default - none */
  readonly etcd?: {
    /** Extra SANs of each etcd server certificate. @default - none */
    readonly serverCertSANs?: string[];
    /** Extra SANs of each etcd peer certificate. @default - none */
    readonly peerCertSANs?: string[];
  };
  /** Rotate the cluster's CAs and service-account key in phases (see ClusterCAProps.rotation). */
  readonly caRotation?: ClusterCaRotation;
  /** Every node, control plane and workers; names unique. */
  readonly nodes: NodeSpec[];
}

/** What rotates in a cluster's CA rotation: its CAs and the service-account key pair. */
export type RotatingAuthority = CaId | 'service-account';

export interface ClusterCaRotation extends CaRotation {
  /** Which of the cluster's authorities rotate. @default - all: ca, etcd-ca, front-proxy-ca and service-account */
  readonly authorities?: RotatingAuthority[];
}

/** A control-plane node: its advertise address is known. */
export interface ControlPlaneNode extends NodeSpec {
  /** Always `control-plane`. */
  readonly role: 'control-plane';
  /** The advertise address. */
  readonly ip: string;
}

/** A ClusterSpec with kubeadm's defaults filled in and its cross-field rules checked. */
export interface Cluster {
  /** The cluster's name. */
  readonly clusterName: string;
  /** host:port (IPv6 hosts bracketed) of the control-plane endpoint. */
  readonly controlPlaneEndpoint: string;
  /** The endpoint's host alone. */
  readonly controlPlaneHost: string;
  /** kube-apiserver's port. */
  readonly bindPort: number;
  /** The service CIDRs, primary first. */
  readonly serviceSubnets: string[];
  /** The cluster DNS domain. */
  readonly dnsDomain: string;
  /** The Kubernetes version. */
  readonly kubernetesVersion: string;
  /** The algorithm of every key. */
  readonly keyAlgorithm: KeyAlgorithm;
  /** Leaf validity, in seconds. */
  readonly certificateValiditySeconds: number;
  /** CA validity, in seconds. */
  readonly caCertificateValiditySeconds: number;
  /** Extra apiserver SANs. */
  readonly apiServerCertSANs: string[];
  /** Extra etcd server SANs. */
  readonly etcdServerCertSANs: string[];
  /** Extra etcd peer SANs. */
  readonly etcdPeerCertSANs: string[];
  /** The control-plane nodes, in spec order. */
  readonly controlPlaneNodes: ControlPlaneNode[];
  /** The workers, in spec order. */
  readonly workerNodes: NodeSpec[];
  /** The rotation each rotating authority is in; an authority not named has none declared. */
  readonly caRotation: Partial<Record<RotatingAuthority, CaRotation>>;
  /** Every node, in spec order. */
  readonly nodes: NodeSpec[];
}

/** kubeadm v1beta4 defaults (cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go), but the key type. */
export const KUBEADM_DEFAULTS = {
  /** ClusterConfiguration.clusterName. */
  clusterName: 'kubernetes',
  /** InitConfiguration.localAPIEndpoint.bindPort. */
  bindPort: 6443,
  /** networking.serviceSubnet. */
  serviceSubnets: ['10.96.0.0/12'],
  /** networking.dnsDomain. */
  dnsDomain: 'cluster.local',
  /** The Kubernetes version when none is given. */
  kubernetesVersion: 'v1.31.0',
  /** certificateValidityPeriod. */
  certificateValidity: '8760h',
  /** caCertificateValidityPeriod. */
  caCertificateValidity: '87600h',
} as const;

const validateClusterSpecSchema = compileSchema(clusterSpecSchema);

/**
 * Checks a cluster spec and fills in the defaults; errors name the field (`nodes[2].ip`). Every error found is
 * reported at once (a SpecError carrying the others), not only the first.
 */
export function resolveCluster(input: unknown): Cluster {
  const spec = checkSchema<ClusterSpec>(validateClusterSpecSchema, input);
  const errors: SpecError[] = [];
  const check = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      errors.push(err);
      return undefined;
    }
  };
  check(() => checkUniqueNames(spec.nodes));
  check(() => checkUniqueAddresses(spec.nodes));
  // Addresses in one spelling from here on: SANs, flags, URLs and kubeconfigs all print them.
  const nodes = spec.nodes.map((n) => ({ ...n, ...(n.ip === undefined ? {} : { ip: canonicalIp(n.ip) }), ...(n.additionalIps ? { additionalIps: n.additionalIps.map(canonicalIp) } : {}) }));
  const controlPlaneNodes = nodes.filter((n): n is ControlPlaneNode => n.role === 'control-plane');
  if (controlPlaneNodes.length === 0) errors.push(new SpecError('nodes', 'needs at least one node with role "control-plane"'));
  if (controlPlaneNodes.length > 1 && spec.controlPlaneEndpoint === undefined) {
    // As kubeadm, which refuses to join a second control-plane node without one: the first node's address
    // would be every client's only way in, and end up in every apiserver certificate.
    errors.push(new SpecError('controlPlaneEndpoint', `is required with ${controlPlaneNodes.length} control-plane nodes: give the load balancer or DNS name in front of them`));
  }
  const serviceSubnets = spec.serviceSubnets ?? [...KUBEADM_DEFAULTS.serviceSubnets];
  serviceSubnets.forEach((cidr, i) => check(() => checkServiceSubnet(cidr, `serviceSubnets[${i}]`)));
  if (serviceSubnets.length === 2 && net.isIP(serviceSubnets[0].split('/')[0]) === net.isIP(serviceSubnets[1].split('/')[0])) {
    errors.push(new SpecError('serviceSubnets[1]', 'a dual-stack cluster has one service CIDR per IP family, but both are of the same family'));
  }
  const bindPort = spec.bindPort ?? KUBEADM_DEFAULTS.bindPort;
  const endpoint = spec.controlPlaneEndpoint === undefined ? controlPlaneNodes[0] && { host: controlPlaneNodes[0].ip, port: bindPort } : check(() => parseEndpoint(spec.controlPlaneEndpoint!, bindPort));
  const certificateValiditySeconds = check(() => goDurationSeconds(spec.certificateValidity ?? KUBEADM_DEFAULTS.certificateValidity, 'certificateValidity'));
  const caCertificateValiditySeconds = check(() => goDurationSeconds(spec.caCertificateValidity ?? KUBEADM_DEFAULTS.caCertificateValidity, 'caCertificateValidity'));
  if (certificateValiditySeconds !== undefined && caCertificateValiditySeconds !== undefined && certificateValiditySeconds > caCertificateValiditySeconds) {
    const certificateValidity = spec.certificateValidity ?? KUBEADM_DEFAULTS.certificateValidity;
    const caCertificateValidity = spec.caCertificateValidity ?? KUBEADM_DEFAULTS.caCertificateValidity;
    // Name the field the user wrote: with only caCertificateValidity given, that is the one too short.
    const field = spec.certificateValidity === undefined ? 'caCertificateValidity' : 'certificateValidity';
    errors.push(new SpecError(field, `certificates would outlive their CA: certificateValidity ${certificateValidity} is longer than caCertificateValidity ${caCertificateValidity}`));
  }
  if (errors.length > 0 || !endpoint || certificateValiditySeconds === undefined || caCertificateValiditySeconds === undefined) throw SpecError.all(errors);
  return {
    clusterName: spec.clusterName ?? KUBEADM_DEFAULTS.clusterName,
    controlPlaneEndpoint: hostPort(endpoint.host, endpoint.port),
    controlPlaneHost: endpoint.host,
    bindPort,
    serviceSubnets,
    dnsDomain: spec.dnsDomain ?? KUBEADM_DEFAULTS.dnsDomain,
    kubernetesVersion: spec.kubernetesVersion ?? KUBEADM_DEFAULTS.kubernetesVersion,
    keyAlgorithm: spec.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM,
    certificateValiditySeconds,
    caCertificateValiditySeconds,
    apiServerCertSANs: spec.apiServerCertSANs ?? [],
    etcdServerCertSANs: spec.etcd?.serverCertSANs ?? [],
    etcdPeerCertSANs: spec.etcd?.peerCertSANs ?? [],
    controlPlaneNodes,
    workerNodes: nodes.filter((n) => n.role === 'worker'),
    nodes,
    caRotation: rotatingAuthorities(spec.caRotation),
  };
}

const ROTATING_AUTHORITIES: readonly RotatingAuthority[] = ['ca', 'etcd-ca', 'front-proxy-ca', 'service-account'];

/** The declared rotation, by the authorities it names (all by default). */
function rotatingAuthorities(rotation: ClusterCaRotation | undefined): Cluster['caRotation'] {
  if (!rotation) return {};
  const declared: CaRotation = { id: rotation.id, phase: rotation.phase };
  return Object.fromEntries((rotation.authorities ?? ROTATING_AUTHORITIES).map((authority) => [authority, declared]));
}

/**
 * Reads and resolves a cluster spec from a YAML or JSON file (JSON by its `.json` name, read strictly: a
 * trailing comma is an error). Errors name the file, the line of the key and the field:
 * `cluster.yaml:14: nodes[2].ip: "10.0.0" is not a valid IPv4 or IPv6 address`; every error of the file is
 * reported. `field` names the input that gave the file name, for a file that cannot be read.
 */
export function loadClusterSpec(file: string, field = 'cluster'): Cluster {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? 'cannot be read');
    throw new SpecError(field, `cluster spec file ${JSON.stringify(file)} (${path.resolve(file)}): ${why}`);
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    const error = document.errors[0];
    throw new SpecError('', `not valid YAML: ${error.message.split('\n')[0]}`, `${file}:${error.linePos?.[0].line ?? 1}`);
  }
  if (/\.json$/i.test(file)) checkStrictJson(text, file);
  try {
    return resolveCluster(document.toJS());
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    const located = err.each.map((e) => ({ line: keyLine(document, lineCounter, fieldPath(e.field)), error: e }));
    located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw SpecError.all(located.map(({ line, error }) => error.within(line === undefined ? file : `${file}:${line}`)));
  }
}

/**
 * JSON.parse's verdict on a .json file, on the line it concerns. YAML (which reads the file for line numbers)
 * takes a trailing comma; JSON does not, and Node 20's message gives no position for it, so it is found here.
 */
function checkStrictJson(text: string, file: string): void {
  try {
    JSON.parse(text);
  } catch (err) {
    const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
    const trailingComma = /,\s*[\]}]/.exec(text);
    if (trailingComma) throw new SpecError('', 'not valid JSON: a trailing comma (JSON allows none before "]" or "}")', `${file}:${lineAt(trailingComma.index)}`);
    const message = (err as Error).message.replace(/\s+/g, ' ');
    const position = /at position (\d+)/.exec(message);
    throw new SpecError('', `not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`, `${file}:${position ? lineAt(Number(position[1])) : 1}`);
  }
}

/**
 * The line of the key the field is under (`ip:` for `nodes[2].ip`, not its value, which may start on a later
 * line); for a field the file lacks, the line of its deepest parent that it has.
 */
function keyLine(document: Document, lineCounter: LineCounter, path: (string | number)[]): number | undefined {
  for (let depth = path.length; depth > 0; depth--) {
    const parent = depth === 1 ? document.contents : document.getIn(path.slice(0, depth - 1), true);
    const key = path[depth - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (pair && isScalar(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]).line;
    } else if (isSeq(parent) && typeof key === 'number') {
      const item = parent.items[key] as { range?: [number, number, number] } | undefined;
      if (item?.range) return lineCounter.linePos(item.range[0]).line;
    }
  }
  const root = document.contents as { range?: [number, number, number] } | null;
  return root?.range ? lineCounter.linePos(root.range[0]).line : undefined;
}

/** `nodes[2].ip` → ['nodes', 2, 'ip'] */
function fieldPath(field: string): (string | number)[] {
  return [...field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

function checkUniqueNames(nodes: NodeSpec[]): void {
  const seen = new Map<string, number>();
  SpecError.throwIfAny(nodes.flatMap((node, i) => {
    const first = seen.get(node.name);
    if (first !== undefined) return [new SpecError(`nodes[${i}].name`, `"${node.name}" is already the name of nodes[${first}]`)];
    seen.set(node.name, i);
    return [];
  }));
}

/** Two nodes with one address would share their etcd and apiserver endpoints; a certificate would name both. */
function checkUniqueAddresses(nodes: NodeSpec[]): void {
  const seen = new Map<string, string>();
  SpecError.throwIfAny(nodes.flatMap((node, i) =>
    [...(node.ip === undefined ? [] : [{ ip: node.ip, field: `nodes[${i}].ip` }]), ...(node.additionalIps ?? []).map((ip, j) => ({ ip, field: `nodes[${i}].additionalIps[${j}]` }))].flatMap(({ ip, field }) => {
      const key = canonicalIp(ip);
      const first = seen.get(key);
      if (first !== undefined) return [new SpecError(field, `${JSON.stringify(ip)} is already the address of ${first}`)];
      seen.set(key, field);
      return [];
    }),
  ));
}

/**
 * A Service CIDR the cluster can use: its network address as written (host bits set would leave the reader to
 * guess which range was meant), and kubeadm's size rules (ValidateServiceSubnetSize, ValidateIPNetFromString):
 * at least 10 addresses (the kubernetes Service is index 1, cluster DNS index 10), at most 20 host bits.
 */
function checkServiceSubnet(cidr: string, field: string): void {
  const hostBits = hostBitsReason(cidr);
  if (hostBits) throw new SpecError(field, hostBits);
  const { prefix, network } = parseCidr(cidr);
  const bits = network.length * 8;
  if (bits - prefix < 4) throw new SpecError(field, `${JSON.stringify(cidr)} is too small: a service CIDR needs room for the kubernetes Service and cluster DNS (at most /${bits - 4})`);
  if (bits - prefix > 20) throw new SpecError(field, `${JSON.stringify(cidr)} is too large: kube-apiserver takes at most 20 host bits (at least /${bits - 20})`);
}

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address; anything with a scheme or path is refused. */
function parseEndpoint(value: string, defaultPort: number): { host: string; port: number } {
  const refuse = (why: string) => new SpecError('controlPlaneEndpoint', `${JSON.stringify(value)} ${why}; write host or host:port, e.g. "api.example.com:6443"`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw refuse('has a scheme');
  if (value.includes('/')) throw refuse('has a path');
  if (net.isIPv6(value)) {
    if (!isIpAddress(value)) throw refuse('has a zone ID, which no certificate can carry');
    return { host: canonicalIp(value), port: defaultPort };
  }
  const match = /^(?:\[([^\]]*)\]|([^:[\]]+))(?::([^:]*))?$/.exec(value);
  if (!match) throw refuse('is not a host or host:port');
  const host = match[1] ?? match[2];
  if (match[3] !== undefined && !isPort(match[3])) throw refuse('has a port that is not a number 1-65535 without leading zeros');
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (match[1] !== undefined && !isIpAddress(host)) throw refuse('has brackets around something that is not an IPv6 address (without zone)');
  if (match[1] !== undefined && !net.isIPv6(host)) throw refuse('has brackets around an IPv4 address');
  if (!isIpAddress(host) && (!isDnsName(host) || host.startsWith('*'))) throw refuse('has a host that is neither an IP address nor a lower-case DNS name (no wildcard)');
  return { host: isIpAddress(host) ? canonicalIp(host) : host, port };
}

/** host:port with IPv6 hosts bracketed, as in a URL. */
export function hostPort(host: string, port: number): string {
  return `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** A Go duration of hours, minutes and seconds ("8760h", "1h30m") in seconds. */
export function goDurationSeconds(value: string, field: string): number {
  let seconds = 0;
  try {
    seconds = parseGoDuration(value, field);
  } catch {
    // Reported below, with what kubeadm's fields take.
  }
  if (!Number.isInteger(seconds) || seconds < 60) throw new SpecError(field, `${JSON.stringify(value)} must be a duration of at least 1m, in h, m and s ("8760h")`);
  return seconds;
}
