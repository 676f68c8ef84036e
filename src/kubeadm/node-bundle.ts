/**
 * A node's /etc/kubernetes tree. Synth records, per cluster and node, a plan: every file's path, mode and
 * content, with private keys named by state slot and key generation rather than copied. `cdk8s-pki export-node`
 * renders the plan from the state and writes it in one piece.
 */
import { SpecError } from '../engine/errors';
import { writeTree } from '../output-tree';
import { joinCommand } from '../bootstrap/cluster-info';
import { NEW_DOCUMENT, schemaCheck } from '../state/documents';
import { PkiState } from '../state/pki-state';
import { KUBECONFIGS } from './catalog';
import { BOOTSTRAP_KUBECONFIG_FILE, KUBELET_CERT_DIR, KUBELET_CONFIG_FILE, KUBERNETES_DIR } from './layout';
import { PlannedContent, renderContent } from '../content/planned-content';
import plannedContentSchema from '../content/schemas/planned-content.schema.json';
import nodePlanSchema from './schemas/node-plan.schema.json';

/** What `cdk8s-pki join-command` prints for a node. */
export interface JoinPlan {
  /** host:port of the control-plane endpoint. */
  readonly endpoint: string;
  /** The state slot of the join token (its value is read from the state, never kept in the plan). */
  readonly tokenSlot: string;
  /** `sha256:<hex>` of the (signing) cluster CA's public key. */
  readonly caCertHash: string;
  /** During a CA rotation, the other trusted CA's hash: kubeadm join takes the flag once per hash and accepts any. */
  readonly additionalCaCertHashes?: string[];
  /** When the token stops working (RFC 3339); absent: never. */
  readonly tokenExpiration?: string;
}

/** One file of a node's tree, its content by reference to the state. */
export interface PlannedFile {
  /** Relative to /etc/kubernetes. */
  readonly path: string;
  /** The file mode (kubeadm's). */
  readonly mode: number;
  /** What it holds: public text, or keys and tokens named by their state slot. */
  readonly content: PlannedContent;
}

/** What `export-node` writes for one node, as synth recorded it in the state. */
export interface NodePlan {
  /** The state slot of the ControlPlanePki that planned it (absent in plans of older synths). */
  readonly cluster?: string;
  /** The node's name. */
  readonly node: string;
  /** The node's role. */
  readonly role: 'control-plane' | 'worker';
  /** Directories with a mode of their own (created even when empty). */
  readonly directories: {
    /** Relative to /etc/kubernetes. */
    readonly path: string;
    /** The directory's mode. */
    readonly mode: number;
  }[];
  /** Every file of the tree. */
  readonly files: PlannedFile[];
  /** Set when the cluster has a join token. */
  readonly join?: JoinPlan;
}

/** A plan as synth records it now: with its cluster. */
export type ClusterNodePlan = NodePlan & {
  /** The state slot of the ControlPlanePki that planned it. */
  readonly cluster: string;
};

const PLAN_PREFIX = 'nodes';
const checkNodePlan = schemaCheck<NodePlan>(nodePlanSchema, plannedContentSchema);

/**
 * Plans are kept per cluster, `nodes/<cluster slot>/<node>`: two clusters may have nodes of the same name.
 * Synths before this layout wrote `nodes/<node>`; those are read while the state has no per-cluster plan.
 */
export function nodePlanName(clusterSlot: string, node: string): string {
  return `${PLAN_PREFIX}/${clusterSlot}/${node}`;
}

/** Stages `plan` in the state (written with the keys when the app synthesizes). */
export function recordNodePlan(state: PkiState, plan: ClusterNodePlan): void {
  state.putDocument<NodePlan>(nodePlanName(plan.cluster, plan.node), plan, checkNodePlan);
}

/** A plan's place: the cluster slot ('' for a plan of an older synth) and the node. */
export interface PlannedNodeName {
  /** The cluster slot, '' for a plan of an older synth. */
  readonly cluster: string;
  /** The node's name. */
  readonly node: string;
  /** The state document holding the plan. */
  readonly document: string;
}

function allPlans(state: PkiState): PlannedNodeName[] {
  return state.documentNames(PLAN_PREFIX).map((document) => {
    const parts = document.split('/').slice(1);
    return { cluster: parts.slice(0, -1).join('/'), node: parts[parts.length - 1], document };
  });
}

/** Every node plan of the state; older `nodes/<node>` plans only when no per-cluster plan exists. */
export function plannedNodes(state: PkiState): PlannedNodeName[] {
  const all = allPlans(state);
  const perCluster = all.filter((p) => p.cluster !== '');
  return perCluster.length > 0 ? perCluster : all;
}

/**
 * The recorded plan of `node`, given as `<node>` or `<cluster slot>/<node>` (or with `cluster`). A node name
 * that several clusters have must name its cluster; an unknown one is an error listing the known ones.
 */
export function readNodePlan(state: PkiState, node: string, cluster?: string): NodePlan {
  const slash = node.lastIndexOf('/');
  const wantedCluster = cluster ?? (slash >= 0 ? node.slice(0, slash) : undefined);
  const wantedNode = slash >= 0 ? node.slice(slash + 1) : node;
  const known = plannedNodes(state);
  const matches = known.filter((p) => p.node === wantedNode && (wantedCluster === undefined || p.cluster === wantedCluster));
  if (matches.length === 1) return state.readDocument(matches[0].document, checkNodePlan)!;
  const label = (p: PlannedNodeName) => (p.cluster ? `${p.cluster}/${p.node}` : p.node);
  if (matches.length > 1) {
    throw new SpecError('node', `"${wantedNode}" is a node of ${matches.length} clusters (${matches.map((p) => p.cluster).join(', ')}); name one with --cluster <path> or as ${label(matches[0])}`);
  }
  const where = wantedCluster === undefined ? '' : ` of cluster "${wantedCluster}"`;
  if (allPlans(state).some((p) => p.cluster === '' && p.node === wantedNode)) {
    throw new SpecError('node', `no node "${wantedNode}"${where} in the state's per-cluster plans (an older synth planned one without its cluster); run synth again`);
  }
  throw new SpecError('node', `no node "${wantedNode}"${where} in the state; ${known.length ? `its nodes are ${known.map(label).join(', ')}` : 'run synth first'}`);
}

/** The plan's join token must not have expired: a kubelet or kubeadm would be refused with it. */
function checkTokenUnexpired(state: PkiState, plan: NodePlan): void {
  if (plan.join?.tokenExpiration && Date.parse(plan.join.tokenExpiration) <= state.now().getTime()) {
    throw new SpecError('node', `the join token expired at ${plan.join.tokenExpiration}; run \`cdk8s synth\` (it renews the token ${plan.join.tokenSlot}), then ask again`);
  }
}

const usesToken = (content: PlannedContent): boolean => content.kind === 'token-kubeconfig' || content.kind === 'token-auth-file' || content.kind === 'token-secret';

/** `kubeadm join …` for `node` with the cluster's join token, as `kubeadm token create --print-join-command` prints it. */
export function nodeJoinCommand(state: PkiState, node: string, cluster?: string): string {
  const plan = readNodePlan(state, node, cluster);
  if (!plan.join) throw new SpecError('node', `the cluster of "${plan.node}" has no join token; give ControlPlanePki a \`tlsBootstrap\``);
  checkTokenUnexpired(state, plan);
  return joinCommand(plan.join.endpoint, state.secret(plan.join.tokenSlot), [plan.join.caCertHash, ...(plan.join.additionalCaCertHashes ?? [])], plan.role === 'control-plane');
}

/**
 * The kubelet flags of a worker started on its exported tree without kubeadm (TLS bootstrapping by hand): it
 * authenticates with bootstrap-kubelet.conf, writes kubelet.conf itself once its CSR is approved, keeps its
 * certificates in --cert-dir (which it creates), and reads the exported KubeletConfiguration. `root` is where
 * the tree is (default /etc/kubernetes).
 */
export function kubeletBootstrapFlags(root: string = KUBERNETES_DIR): string[] {
  return [
    `--bootstrap-kubeconfig=${root}/${BOOTSTRAP_KUBECONFIG_FILE}`,
    `--kubeconfig=${root}/${KUBECONFIGS.kubelet.fileName}`,
    `--config=${root}/${KUBELET_CONFIG_FILE}`,
    `--cert-dir=${KUBELET_CERT_DIR}`,
  ];
}

/** One file of a node's tree with its content rendered from the state (keys and tokens included). */
export interface RenderedFile {
  /** Relative to the tree's root. */
  readonly path: string;
  /** The file mode. */
  readonly mode: number;
  /** The bytes written. */
  readonly data: Buffer;
}

/**
 * Every file of `node`'s tree, in memory: all that can fail (unknown or ambiguous node, missing key, a join
 * token that expired) fails here.
 */
export function renderNode(
  state: PkiState,
  node: string,
  cluster?: string,
): {
  /** The node's plan. */
  plan: NodePlan;
  /** The directories with a mode of their own. */
  directories: NodePlan['directories'];
  /** Every file, rendered. */
  files: RenderedFile[];
} {
  const plan = readNodePlan(state, node, cluster);
  if (plan.files.some((f) => usesToken(f.content))) checkTokenUnexpired(state, plan);
  return { plan, directories: plan.directories, files: plan.files.map((f) => ({ path: f.path, mode: f.mode, data: Buffer.from(renderContent(state, f.content)) })) };
}

/**
 * Writes `node`'s tree to `outDir`, which must not exist or be empty: the tree is built beside it and renamed
 * into place, so a failure leaves `outDir` as it was.
 */
export function exportNode(state: PkiState, node: string, outDir: string, cluster?: string): RenderedFile[] {
  const { directories, files } = renderNode(state, node, cluster);
  writeTree(outDir, { files, directories, mode: 0o755 });
  return files;
}

/** The key and token slots a plan's files name by reference: a new key or token there changes the tree without changing the plan. */
export function referencedSlots(plan: NodePlan): string[] {
  const slots = plan.files.flatMap(({ content }) => ('key' in content ? [content.key.slot] : 'tokenSlot' in content ? [content.tokenSlot] : []));
  return [...new Set(slots)].sort();
}

/** A node's tree as this synth leaves it: `reexport` when what `export-node` writes for it would change. */
export interface NodeBundleChange {
  /** The cluster slot. */
  readonly cluster: string;
  /** The node's name. */
  readonly node: string;
  /** What `export-node` is given: the node, or `<cluster>/<node>` when another cluster has a node of that name. */
  readonly label: string;
  /** Whether the node's tree changes, so that it must be exported and copied again. */
  readonly reexport: boolean;
  /** Why (`plan changed`, `reissue 12 slots`, …). */
  readonly reasons: string[];
}

/**
 * Every planned node of the state as this synth staged it: re-exported when its plan changed (a certificate
 * in it re-issued, a file added) or a key or token it names is not kept as it is (`decisions` by slot).
 */
export function nodeBundleChanges(state: PkiState, decisions: ReadonlyMap<string, { readonly action: string }>): NodeBundleChange[] {
  const pending = new Map(state.pendingChanges().map((c) => [c.slot, c.reasons]));
  const nodes = plannedNodes(state);
  const labels = nodeLabelsOf(nodes);
  return nodes.map((p, i) => {
    const plan = state.readDocument(p.document, checkNodePlan)!;
    const reasons = [...(pending.get(p.document) ?? [])];
    // A new node is exported whole: what it names is not news. Else by action, counted when there are many.
    const slotsByAction = new Map<string, string[]>();
    if (!reasons.includes(NEW_DOCUMENT)) for (const slot of referencedSlots(plan)) {
      const action = decisions.get(slot)?.action;
      if (action !== undefined && action !== 'keep') slotsByAction.set(action, [...(slotsByAction.get(action) ?? []), slot]);
    }
    for (const [action, slots] of slotsByAction) reasons.push(`${action} ${slots.length > 3 ? `${slots.length} slots` : slots.join(', ')}`);
    return { cluster: p.cluster, node: p.node, label: labels[i], reexport: reasons.length > 0, reasons };
  });
}

/** What `export-node` is given for each of `nodes`: the node, or `<cluster>/<node>` when another cluster has a node of that name. */
function nodeLabelsOf(nodes: PlannedNodeName[]): string[] {
  const plansOf = new Map<string, number>();
  for (const p of nodes) plansOf.set(p.node, (plansOf.get(p.node) ?? 0) + 1);
  return nodes.map((p) => (plansOf.get(p.node)! > 1 ? `${p.cluster}/${p.node}` : p.node));
}

/** Every planned node as `export-node` is given it, in natural order (worker-2 before worker-10). */
export function nodeLabels(state: PkiState): string[] {
  const collator = new Intl.Collator('en', { numeric: true });
  return nodeLabelsOf(plannedNodes(state)).sort(collator.compare);
}

/**
 * Writes the trees of several nodes (each as `renderNode` takes it) to `outDir/<node>`, as one tree: `outDir`
 * must not exist or be empty, and a node that cannot be rendered (unknown, expired token) leaves nothing.
 */
export function exportNodes(
  state: PkiState,
  nodes: string[],
  outDir: string,
  cluster?: string,
): {
  /** The node, as given. */
  node: string;
  /** The files written under `<outDir>/<node>`. */
  files: RenderedFile[];
}[] {
  const rendered = nodes.map((node) => ({ node, ...renderNode(state, node, cluster) }));
  writeTree(outDir, {
    files: rendered.flatMap(({ node, files }) => files.map((f) => ({ ...f, path: `${node}/${f.path}` }))),
    directories: rendered.flatMap(({ node, directories }) => [{ path: node, mode: 0o755 }, ...directories.map((d) => ({ ...d, path: `${node}/${d.path}` }))]),
    mode: 0o755,
  });
  return rendered.map(({ node, files }) => ({ node, files }));
}
