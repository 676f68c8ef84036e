/**
 * What a synth would do to the PKI, from the decisions it made: `cdk8s-pki plan` prints it (the app writes it
 * to `$CDK8S_PKI_PLAN_FILE` instead of committing), and a synth that committed prints its summary.
 */
import * as fs from 'node:fs';
import { nodeBundleChanges, NodeBundleChange } from '../kubeadm/node-bundle';
import { NEW_DOCUMENT } from '../state/documents';
import { SINGLE_NODE_PLANS } from '../rancher/modes';
import { ENV_PLAN_FILE } from '../state/environment';
import { PkiState, RotationDecision, SlotDecision } from '../state/pki-state';
import { describeTransition, transitionEffect } from '../report/rotation';

/** The plan file the environment names, or undefined when this is a synth. */
export function planFileFromEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  return env[ENV_PLAN_FILE] || undefined;
}

export interface PlannedSlot {
  readonly slot: string;
  readonly kind: SlotDecision['kind'];
  readonly action: SlotDecision['action'];
  readonly reasons: string[];
  /** RFC 3339. */
  readonly renewAt?: string;
  /** RFC 3339: of the certificate the synth leaves (the new one when it re-issues). */
  readonly notAfter?: string;
  readonly commonName?: string;
}

/** A CA's or bare key's rotation phase, as this synth moves it (`action: keep` when it stays). */
export type PlannedRotation = Pick<RotationDecision, 'slot' | 'kind' | 'id' | 'from' | 'to' | 'action'>;

/** A state document (node plan, Secret plan, Rancher's hostname …) the synth would write. */
export interface PlannedDocument {
  readonly name: string;
  readonly reasons: string[];
}

/** The plan as the app reports it (`cdk8s-pki plan --output json` adds the output directory's changes). */
export interface PlanReport {
  readonly version: 1;
  /** True when the synth would write the state (exit code 2 of `plan`). */
  readonly changes: boolean;
  /** Every rotating CA and key of the synth, before the certificate decisions they cause. */
  readonly rotations: PlannedRotation[];
  readonly slots: PlannedSlot[];
  readonly nodes: NodeBundleChange[];
  /** Documents that change, beside the node plans listed in `nodes`. */
  readonly documents: PlannedDocument[];
}

const iso = (date: Date | undefined) => date?.toISOString();

/** The report of what `state` staged and decided in this synth (call it before `commit()`, which clears the staging). */
export function planReport(state: PkiState): PlanReport {
  const decisions = state.decisions();
  const bySlot = new Map(decisions.map((d) => [d.slot, d]));
  const nodes = nodeBundleChanges(state, bySlot);
  const nodeDocuments = new Set(nodes.map((n) => `nodes/${n.cluster ? `${n.cluster}/` : ''}${n.node}`));
  const documents = state
    .pendingChanges()
    .filter((c) => !bySlot.has(c.slot) && !nodeDocuments.has(c.slot))
    .map((c) => ({ name: c.slot, reasons: c.reasons }));
  return {
    version: 1,
    changes: state.pendingChanges().length > 0,
    rotations: state.rotations().map((r) => ({ slot: r.slot, kind: r.kind, id: r.id, from: r.from, to: r.to, action: r.action })),
    slots: decisions.map((d) => ({
      slot: d.slot,
      kind: d.kind,
      action: d.action,
      reasons: d.reasons,
      ...(d.renewAt ? { renewAt: iso(d.renewAt) } : {}),
      ...(d.notAfter ? { notAfter: iso(d.notAfter) } : {}),
      ...(d.commonName !== undefined ? { commonName: d.commonName } : {}),
    })),
    nodes,
    documents,
  };
}

/** Written whole (temp file + rename), so the command never reads half a report. */
export function writePlanFile(file: string, report: PlanReport): void {
  const partial = `${file}.partial-${process.pid}`;
  fs.writeFileSync(partial, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(partial, file);
}

/**
 * `cdk8s-pki export-node a b --out <dir>` for the nodes to re-export (in natural order: worker-2 before
 * worker-10), `export-node --all` when that is every node of several, or undefined when there are none.
 */
export function exportCommand(report: Pick<PlanReport, 'nodes'>, outDir = '<dir>'): string | undefined {
  const nodes = report.nodes.filter((n) => n.reexport).map((n) => n.label);
  if (nodes.length === 0) return undefined;
  if (nodes.length > 1 && nodes.length === report.nodes.length) return `cdk8s-pki export-node --all --out ${outDir}`;
  return `cdk8s-pki export-node ${nodes.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(' ')} --out ${outDir}`;
}

/**
 * `cdk8s-pki export-rancher <slot> --out <dir>` for each RancherIngressTLS with `install: 'docker'` whose
 * recorded export changes (a re-issued or renewed certificate, another CA, mode or version), with "export" for
 * a new one and "re-export" for a changed one.
 */
export function rancherExportCommands(report: Pick<PlanReport, 'documents'>, outDir = '<dir>'): { verb: string; command: string }[] {
  const prefix = `${SINGLE_NODE_PLANS}/`;
  return report.documents
    .filter((d) => d.name.startsWith(prefix))
    .map((d) => ({ verb: d.reasons.includes(NEW_DOCUMENT) ? 'export' : 're-export', command: `cdk8s-pki export-rancher ${d.name.slice(prefix.length)} --out ${outDir}` }));
}

/** "export" when every node to write is new (a first synth), else "re-export". */
function exportVerb(report: Pick<PlanReport, 'nodes'>): string {
  return report.nodes.filter((n) => n.reexport).every((n) => n.reasons.includes(NEW_DOCUMENT)) ? 'export' : 're-export';
}

/** What a slot's line says after its action: the reasons, and for a renewal the new expiry. */
export function slotDetail(slot: PlannedSlot): string {
  if (slot.action === 'renew' && slot.notAfter) return `${slot.reasons.join('; ')}; new certificate until ${slot.notAfter}`;
  return slot.reasons.join('; ');
}

/** The rotations that move a phase, for the plan's and the summary's first lines. */
export function movedRotations(report: Pick<PlanReport, 'rotations'>): PlannedRotation[] {
  return report.rotations.filter((r) => r.action !== 'keep');
}

/**
 * What the moved phases do, once per distinct transition (every authority of a cluster moves together), e.g.
 * `issue-from-new (CA): the new CA signs: …`.
 */
export function rotationEffects(report: Pick<PlanReport, 'rotations'>): string[] {
  const lines = movedRotations(report).map((r) => `${r.action === 'rollback' ? `back to ${r.to}` : r.to} (${r.kind === 'key' ? 'key' : 'CA'}): ${transitionEffect(r)}`);
  return [...new Set(lines)];
}

/**
 * The synth summary, for stderr after a commit: each rotation's transition, counts of what was issued, then
 * a line per re-issued, renewed or rotated slot, then the nodes to re-export. Empty when nothing changed.
 */
export function synthSummary(report: PlanReport): string {
  if (!report.changes) return '';
  const lines: string[] = movedRotations(report).map((r) => `${r.slot}: ${describeTransition(r)}`);
  const issued = report.slots.filter((s) => s.action === 'issue');
  if (issued.length) lines.push(`issued ${issued.length} new (${countsByKind(issued)})`);
  for (const s of report.slots.filter((x) => x.action !== 'keep' && x.action !== 'issue')) lines.push(`${ACTION_LABEL[s.action]} ${s.slot}: ${slotDetail(s)}`);
  const command = exportCommand(report);
  if (command) lines.push(`node bundles to ${exportVerb(report)}: ${command}`);
  for (const rancher of rancherExportCommands(report)) lines.push(`Rancher (docker run) to ${rancher.verb}: ${rancher.command}`);
  return lines.length ? `${lines.map((l) => `cdk8s-pki: ${l}`).join('\n')}\n` : '';
}

const ACTION_LABEL: Record<SlotDecision['action'], string> = { keep: 'keep', issue: 'issue', reissue: 're-issued', renew: 'renewed', rotate: 'rotated' };

function countsByKind(slots: PlannedSlot[]): string {
  const kinds: [SlotDecision['kind'], string][] = [
    ['certificate', 'certificate'],
    ['key', 'key'],
    ['token', 'token'],
  ];
  return kinds
    .map(([kind, word]) => [slots.filter((s) => s.kind === kind).length, word] as const)
    .filter(([n]) => n > 0)
    .map(([n, word]) => `${n} ${word}${n === 1 ? '' : 's'}`)
    .join(', ');
}
