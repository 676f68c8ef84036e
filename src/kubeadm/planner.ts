/**
 * The kubeadm planner: which certificates and kubeconfigs a cluster needs, and which files each node gets, as
 * pure functions of the cluster spec and of what was issued (PEMs and key references, never keys). The catalog
 * says what each thing is and where it goes; this module only applies it. ControlPlanePki issues what
 * `certificateInstances` and `kubeconfigInstances` ask for and hands the results to `planCluster`.
 */
import { stringify } from 'yaml';
import type { KeyReference } from '../state/pki-state';
import {
  CaId,
  CERTIFICATE_AUTHORITIES,
  CERTIFICATES,
  CertificateEntry,
  CertificateId,
  commonNameOf,
  controlPlaneServer,
  isOnNode,
  isPlacedOn,
  KUBECONFIGS,
  KubeconfigEntry,
  KubeconfigId,
  localServer,
  NODE_FILES,
  NodeFileEntry,
  SERVICE_ACCOUNT_KEY,
} from './catalog';
import { Cluster, ControlPlaneNode, NodeSpec } from './cluster-spec';
import { KubeconfigContent } from '../content/kubeconfig';
import { FILE_MODES, MANIFESTS_DIR, pkiFile } from './layout';
import { ClusterNodePlan, JoinPlan, PlannedFile } from './node-bundle';
import { kubeletConfiguration, NodeAuthOptions, staticPods } from './static-pods';

/** How nodes authenticate, as ControlPlanePki's `tlsBootstrap` decides it. */
export interface PlannerOptions extends NodeAuthOptions {
  /** Workers join by TLS bootstrapping with a bootstrap token (bootstrap-kubelet.conf, no kubelet.conf issued here). */
  readonly tlsBootstrap?: boolean;
}

/** One certificate to issue: cluster-wide (no node) or for one control-plane node. */
export interface CertificateInstance {
  /** The catalog entry. */
  readonly entry: CertificateEntry;
  /** The control-plane node it is made for; absent for one per cluster. */
  readonly node?: ControlPlaneNode;
}

/** One kubeconfig to issue, with the subject and server the catalog gives it. */
export interface KubeconfigInstance {
  /** The catalog entry. */
  readonly entry: KubeconfigEntry;
  /** The node it is made for; absent for one per cluster. */
  readonly node?: NodeSpec;
  /** The user: the client certificate's CN. */
  readonly userName: string;
  /** The groups: the client certificate's O. @default - none */
  readonly groups?: string[];
  /** The API server URL it points at. */
  readonly server: string;
}

/** `apiserver@cp-1`, `admin`: how issued things are looked up in `IssuedMaterial`. */
export function instanceKey(id: CertificateId | KubeconfigId, node?: NodeSpec): string {
  return node ? `${id}@${node.name}` : id;
}

/** The nodes a thing of the entry's scope is made for; `[undefined]` for one per cluster. */
function instanceNodes<T extends NodeSpec>(scope: CertificateEntry['scope'], perNode: T[]): (T | undefined)[] {
  if (scope === 'control-plane-node') return perNode.filter((n) => n.role === 'control-plane');
  if (scope === 'node') return perNode;
  return [undefined];
}

/** The control-plane nodes by name: a node's lookup must not scan them once per node of a large cluster. */
function controlPlaneNodesByName(cluster: Cluster): Map<string, ControlPlaneNode> {
  return new Map(cluster.controlPlaneNodes.map((n) => [n.name, n]));
}

/** Every certificate of kubeadm's set the cluster needs, per its scope. */
export function certificateInstances(cluster: Cluster): CertificateInstance[] {
  return Object.values(CERTIFICATES).flatMap((entry) => instanceNodes(entry.scope, cluster.controlPlaneNodes).map((node) => ({ entry, node })));
}

/** Every kubeconfig the cluster needs; with TLS bootstrapping, workers get no kubelet.conf from here. */
export function kubeconfigInstances(cluster: Cluster, options: PlannerOptions = {}): KubeconfigInstance[] {
  const controlPlaneNodes = controlPlaneNodesByName(cluster);
  return Object.values(KUBECONFIGS).flatMap((entry) =>
    instanceNodes(entry.scope, cluster.nodes)
      .filter((node) => !(options.tlsBootstrap && entry.bootstrappedOnWorkers && node?.role === 'worker'))
      .map((node) => {
        // One per cluster (admin.conf) is named like the first control-plane node's would be.
        const subject = node ?? cluster.controlPlaneNodes[0];
        const controlPlaneNode = controlPlaneNodes.get(subject.name);
        const server = entry.server === 'local-endpoint' && controlPlaneNode ? localServer(cluster, controlPlaneNode) : controlPlaneServer(cluster);
        return { entry, node, userName: commonNameOf(entry, subject), groups: entry.organizations, server };
      }),
  );
}

/** A certificate and where its key is. */
export interface IssuedPair {
  /** The certificate file's content. */
  readonly certificatePem: string;
  /** Where the key is in the state. */
  readonly key: KeyReference;
}

/** What the issuing side made for `certificateInstances` and `kubeconfigInstances`, by `instanceKey`. */
export interface IssuedMaterial {
  /**
   * Per CA: `certificatePem` is what `<base>.crt` holds (every trusted CA certificate, the signing one first:
   * two during a rotation), `key` the signing key, `spkiPins` the trusted CAs' join hashes (signing first).
   */
  readonly cas: Record<
    CaId,
    IssuedPair & {
      /** What the CA's clients trust: each trusted CA certificate with its issuers. */
      readonly trustBundlePem: string;
      /** The trusted CAs' `sha256:<hex>` join hashes, signing first. */
      readonly spkiPins: readonly string[];
    }
  >;
  /** The signing key, then the other key tokens are still verified with during a rotation. */
  readonly serviceAccountKeys: readonly KeyReference[];
  /** The leaf certificates, by instance key. */
  readonly certificates: ReadonlyMap<string, IssuedPair>;
  /** The kubeconfigs, by instance key. */
  readonly kubeconfigs: ReadonlyMap<
    string,
    {
      /** Everything of the kubeconfig but its key. */
      readonly content: Omit<KubeconfigContent, 'privateKeyPem'>;
      /** Where its key is in the state. */
      readonly key: KeyReference;
    }
  >;
  /** The join token, with TLS bootstrapping. */
  readonly joinToken?: {
    /** The token's state slot. */
    readonly slot: string;
    /** RFC 3339; absent: it never expires. */
    readonly expiration?: string;
    /** What the legacy token file says of it. */
    readonly tokenAuthFileEntry: {
      /** The user name. */
      readonly user: string;
      /** The uid. */
      readonly uid: string;
      /** The groups. */
      readonly groups: string[];
    };
  };
}

/** A node's plan and the objects it was made from, so that they are built once (the review charts show them). */
export interface PlannedNode {
  /** The node's plan. */
  readonly plan: ClusterNodePlan;
  /** File name under manifests/ → static Pod; empty for a worker. */
  readonly staticPods: Record<string, object>;
}

/** The plans of every node, and the KubeletConfiguration they all carry (kubeadm's kubelet-config). */
export function planCluster(
  cluster: Cluster,
  issued: IssuedMaterial,
  options: PlannerOptions,
  clusterSlot: string,
): {
  /** Every node's plan, in spec order. */
  nodes: PlannedNode[];
  /** The KubeletConfiguration every node carries. */
  kubeletConfiguration: object;
} {
  // Workers of a TLS-bootstrapping cluster hold the token, and nothing else to authenticate with.
  if (options.tlsBootstrap && !issued.joinToken) throw new Error('a TLS-bootstrapping cluster is planned with its join token');
  const kubelet = kubeletConfiguration(cluster, options);
  const kubeletYaml = stringify(kubelet);
  const controlPlaneNodes = controlPlaneNodesByName(cluster);
  const certificates = instancesByNode(certificateInstances(cluster), cluster);
  const kubeconfigs = instancesByNode(kubeconfigInstances(cluster, options), cluster);
  const nodes = cluster.nodes.map((node) => {
    const controlPlaneNode = controlPlaneNodes.get(node.name);
    const on = { certificates: certificates.get(node.name)!, kubeconfigs: kubeconfigs.get(node.name)! };
    const inputs: NodeInputs = { cluster, node, issued, options, clusterSlot, staticPods: {}, kubeletYaml, ...on };
    const pods = controlPlaneNode ? staticPods(cluster, controlPlaneNode, options, certificatesOn(inputs)) : {};
    return { plan: planNode({ ...inputs, staticPods: pods }), staticPods: pods };
  });
  return { nodes, kubeletConfiguration: kubelet };
}

/**
 * Each node's instances, in the order of `instances`: a per-node one on its node, one per cluster on every node
 * its scope places it. One pass, so that planning N nodes stays linear in N.
 */
function instancesByNode<T extends CertificateInstance | KubeconfigInstance>(instances: T[], cluster: Cluster): Map<string, T[]> {
  const on = new Map(cluster.nodes.map((node): [string, T[]] => [node.name, []]));
  for (const instance of instances) {
    if (instance.node) on.get(instance.node.name)!.push(instance);
    else for (const node of cluster.nodes) if (isOnNode(instance.entry.scope, cluster, node)) on.get(node.name)!.push(instance);
  }
  return on;
}

/** What one node's plan is made from. */
export interface NodeInputs {
  /** The cluster. */
  readonly cluster: Cluster;
  /** The node. */
  readonly node: NodeSpec;
  /** The certificate instances on the node (see `instancesByNode`). */
  readonly certificates: readonly CertificateInstance[];
  /** The kubeconfig instances on the node. */
  readonly kubeconfigs: readonly KubeconfigInstance[];
  /** What was issued for the cluster. */
  readonly issued: IssuedMaterial;
  /** The TLS bootstrapping options. */
  readonly options: PlannerOptions;
  /** The state slot of the ControlPlanePki. */
  readonly clusterSlot: string;
  /** The node's static Pods, by file name. */
  readonly staticPods: Record<string, object>;
  /** The KubeletConfiguration, as YAML. */
  readonly kubeletYaml: string;
}

const text = (path: string, mode: number, value: string): PlannedFile => ({ path, mode, content: { kind: 'text', text: value } });
const keyFile = (path: string, key: KeyReference): PlannedFile => ({ path, mode: FILE_MODES.privateKey, content: { kind: 'private-key', key } });

/** The CA certificates and keys on `node`, as the catalog places them. */
export function caFiles({ cluster, node, issued }: NodeInputs): PlannedFile[] {
  return Object.values(CERTIFICATE_AUTHORITIES).flatMap((entry) => [
    ...(isPlacedOn(entry.certificateOn, cluster, node) ? [text(pkiFile(entry.baseName, 'crt'), FILE_MODES.certificate, issued.cas[entry.id].certificatePem)] : []),
    ...(isPlacedOn(entry.keyOn, cluster, node) ? [keyFile(pkiFile(entry.baseName, 'key'), issued.cas[entry.id].key)] : []),
  ]);
}

/** sa.key and sa.pub on the control-plane nodes. */
export function serviceAccountFiles({ cluster, node, issued }: NodeInputs): PlannedFile[] {
  if (!isOnNode(SERVICE_ACCOUNT_KEY.scope, cluster, node)) return [];
  const [key, ...alsoTrusted] = issued.serviceAccountKeys;
  const publicKeys: PlannedFile = { path: pkiFile(SERVICE_ACCOUNT_KEY.baseName, 'pub'), mode: FILE_MODES.publicKey, content: { kind: 'public-key', key, ...(alsoTrusted.length ? { alsoTrusted } : {}) } };
  return [keyFile(pkiFile(SERVICE_ACCOUNT_KEY.baseName, 'key'), key), publicKeys];
}

/** The leaf certificates and keys on `node`. */
export function certificateFiles({ certificates, issued }: NodeInputs): PlannedFile[] {
  return certificates.flatMap(({ entry, node: instanceNode }) => {
    const made = issued.certificates.get(instanceKey(entry.id, instanceNode));
    if (!made) throw new Error(`no ${instanceKey(entry.id, instanceNode)} was issued for the plan`);
    return [text(pkiFile(entry.baseName, 'crt'), FILE_MODES.certificate, made.certificatePem), keyFile(pkiFile(entry.baseName, 'key'), made.key)];
  });
}

/** The certificate kubeconfigs on `node`. */
export function kubeconfigFiles({ kubeconfigs, issued }: NodeInputs): PlannedFile[] {
  return kubeconfigs.map(({ entry, node: instanceNode }) => {
    const made = issued.kubeconfigs.get(instanceKey(entry.id, instanceNode));
    if (!made) throw new Error(`no ${instanceKey(entry.id, instanceNode)} kubeconfig was issued for the plan`);
    return { path: entry.fileName, mode: FILE_MODES.kubeconfig, content: { kind: 'kubeconfig', kubeconfig: made.content, key: made.key } };
  });
}

/** Plan path → PEM of each certificate file on the node and of each kubeconfig's client certificate: what its static Pods' annotations describe. */
function certificatesOn(inputs: NodeInputs): Map<string, string> {
  return new Map(
    [...caFiles(inputs), ...certificateFiles(inputs), ...kubeconfigFiles(inputs)].flatMap(({ path, content }): [string, string][] => {
      if (content.kind === 'text') return [[path, content.text]];
      if (content.kind === 'kubeconfig') return [[path, content.kubeconfig.certificatePem]];
      return [];
    }),
  );
}

/** Whether a NODE_FILES entry is on `node` under the options. */
function nodeFileWanted(entry: NodeFileEntry, { cluster, node, options }: NodeInputs): boolean {
  if (!isPlacedOn(entry.placement, cluster, node)) return false;
  switch (entry.when) {
    case 'always':
      return true;
    case 'tls-bootstrap':
      return options.tlsBootstrap === true;
    case 'token-auth-file':
      return options.tlsBootstrap === true && options.tokenAuthFile === true;
  }
}

/** The kubelet config, the static Pods, and the token files TLS bootstrapping adds. */
export function nodeFiles(inputs: NodeInputs): PlannedFile[] {
  const { cluster, issued } = inputs;
  const token = issued.joinToken;
  const files: PlannedFile[] = [];
  if (nodeFileWanted(NODE_FILES.kubeletConfig, inputs)) files.push(text(NODE_FILES.kubeletConfig.path, FILE_MODES.kubeletConfig, inputs.kubeletYaml));
  if (nodeFileWanted(NODE_FILES.staticPods, inputs)) {
    files.push(...Object.entries(inputs.staticPods).map(([fileName, pod]) => text(`${NODE_FILES.staticPods.path}/${fileName}`, FILE_MODES.staticPodManifest, stringify(pod))));
  }
  if (token && nodeFileWanted(NODE_FILES.bootstrapKubeconfig, inputs)) {
    const kubeconfig = { clusterName: cluster.clusterName, server: controlPlaneServer(cluster), caPem: issued.cas.ca.trustBundlePem, userName: NODE_FILES.bootstrapKubeconfig.userName };
    files.push({ path: NODE_FILES.bootstrapKubeconfig.path, mode: FILE_MODES.kubeconfig, content: { kind: 'token-kubeconfig', kubeconfig, tokenSlot: token.slot } });
  }
  if (token && nodeFileWanted(NODE_FILES.tokenAuthFile, inputs)) {
    files.push({ path: NODE_FILES.tokenAuthFile.path, mode: FILE_MODES.tokenFile, content: { kind: 'token-auth-file', tokenSlot: token.slot, ...token.tokenAuthFileEntry } });
  }
  return files;
}

/** What `cdk8s-pki join-command` needs for the node, when the cluster has a join token. */
export function joinPlan(cluster: Cluster, issued: IssuedMaterial): JoinPlan | undefined {
  const token = issued.joinToken;
  if (!token) return undefined;
  const [caCertHash, ...additionalCaCertHashes] = issued.cas.ca.spkiPins;
  return {
    endpoint: cluster.controlPlaneEndpoint,
    tokenSlot: token.slot,
    caCertHash,
    ...(additionalCaCertHashes.length ? { additionalCaCertHashes } : {}),
    ...(token.expiration ? { tokenExpiration: token.expiration } : {}),
  };
}

/** One node's /etc/kubernetes: every file, sorted by path, and the directories kubeadm creates. */
export function planNode(inputs: NodeInputs): ClusterNodePlan {
  const { cluster, node } = inputs;
  const files = [...caFiles(inputs), ...serviceAccountFiles(inputs), ...certificateFiles(inputs), ...kubeconfigFiles(inputs), ...nodeFiles(inputs)];
  const join = joinPlan(cluster, inputs.issued);
  return {
    ...(join ? { join } : {}),
    cluster: inputs.clusterSlot,
    node: node.name,
    role: node.role,
    directories: [
      { path: 'pki', mode: FILE_MODES.directory },
      ...(node.role === 'control-plane' ? [{ path: 'pki/etcd', mode: FILE_MODES.directory }] : []),
      { path: MANIFESTS_DIR, mode: FILE_MODES.manifestsDirectory },
      { path: 'kubelet', mode: FILE_MODES.directory },
    ],
    files: files.sort((a, b) => a.path.localeCompare(b.path)),
  };
}
