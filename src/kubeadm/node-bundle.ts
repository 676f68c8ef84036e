/**
 * A node's /etc/kubernetes tree. Synth records, per node, a plan: every file's path, mode and content, with
 * private keys named by state slot and key generation rather than copied. `cdk8s-pki export-node` renders the
 * plan from the state and writes it in one piece.
 */
import { SpecError } from '../engine/errors';
import { writeTree } from '../output-tree';
import { joinCommand } from '../bootstrap/cluster-info';
import { PkiState } from '../state/pki-state';
import { PlannedContent, renderContent } from '../state/planned-content';

/** What `cdk8s-pki join-command` prints for a node. */
export interface JoinPlan {
  /** host:port of the control-plane endpoint. */
  readonly endpoint: string;
  readonly tokenSlot: string;
  /** `sha256:<hex>` of the cluster CA's public key. */
  readonly caCertHash: string;
  /** When the token stops working (RFC 3339); absent: never. */
  readonly tokenExpiration?: string;
}

export interface PlannedFile {
  /** Relative to /etc/kubernetes. */
  readonly path: string;
  readonly mode: number;
  readonly content: PlannedContent;
}

export interface NodePlan {
  readonly node: string;
  readonly role: 'control-plane' | 'worker';
  /** Directories with a mode of their own (created even when empty). */
  readonly directories: { readonly path: string; readonly mode: number }[];
  readonly files: PlannedFile[];
  /** Set when the cluster has a join token. */
  readonly join?: JoinPlan;
}

const PLAN_PREFIX = 'nodes';

/** Stages `plan` in the state (written with the keys when the app synthesizes). */
export function recordNodePlan(state: PkiState, plan: NodePlan): void {
  state.putDocument(`${PLAN_PREFIX}/${plan.node}`, plan);
}

export function plannedNodes(state: PkiState): string[] {
  return state.documentNames(PLAN_PREFIX).map((name) => name.slice(PLAN_PREFIX.length + 1));
}

/** The recorded plan of `node`; an unknown node is an error listing the known ones. */
export function readNodePlan(state: PkiState, node: string): NodePlan {
  const plan = state.readDocument<NodePlan>(`${PLAN_PREFIX}/${node}`);
  if (!plan) {
    const known = plannedNodes(state);
    throw new SpecError('node', `no node "${node}" in the state; ${known.length ? `its nodes are ${known.join(', ')}` : 'run synth first'}`);
  }
  return plan;
}

/** `kubeadm join …` for `node` with the cluster's join token, as `kubeadm token create --print-join-command` prints it. */
export function nodeJoinCommand(state: PkiState, node: string): string {
  const plan = readNodePlan(state, node);
  if (!plan.join) throw new SpecError('node', `the cluster of "${node}" has no join token; give ControlPlanePki a \`tlsBootstrap\``);
  if (plan.join.tokenExpiration && Date.parse(plan.join.tokenExpiration) <= state.now().getTime()) {
    throw new SpecError('node', `the join token expired at ${plan.join.tokenExpiration}; \`cdk8s-pki rotate ${plan.join.tokenSlot}\`, synth, then ask again`);
  }
  return joinCommand(plan.join.endpoint, state.secret(plan.join.tokenSlot), plan.join.caCertHash, plan.role === 'control-plane');
}

export interface RenderedFile {
  readonly path: string;
  readonly mode: number;
  readonly data: Buffer;
}

/** Every file of `node`'s tree, in memory: all that can fail (unknown node, missing key) fails here. */
export function renderNode(state: PkiState, node: string): { directories: NodePlan['directories']; files: RenderedFile[] } {
  const plan = readNodePlan(state, node);
  return { directories: plan.directories, files: plan.files.map((f) => ({ path: f.path, mode: f.mode, data: Buffer.from(renderContent(state, f.content)) })) };
}

/**
 * Writes `node`'s tree to `outDir`, which must not exist or be empty: the tree is built beside it and renamed
 * into place, so a failure leaves `outDir` as it was.
 */
export function exportNode(state: PkiState, node: string, outDir: string): RenderedFile[] {
  const { directories, files } = renderNode(state, node);
  writeTree(outDir, { files, directories, mode: 0o755 });
  return files;
}
