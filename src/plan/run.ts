/**
 * `cdk8s-pki plan`: runs the app as `cdk8s synth` does (its `app:` command, by the shell, in the app's
 * directory), with the manifests sent to a temporary directory and `$CDK8S_PKI_PLAN_FILE` set, so the app
 * reports what it would do instead of writing the state; then compares the manifests with the output directory.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { SpecError, StateError } from '../engine/errors';
import { ENV_PLAN_FILE } from '../state/environment';
import { describeTransition } from '../report/rotation';
import { exportCommand, PlanReport, rancherExportCommands, rotationEffects, slotDetail } from './report';

/** A file of the output directory that the synth would add or change. */
export interface OutputFileChange {
  /** Relative to the output directory. */
  readonly path: string;
  readonly change: 'added' | 'modified';
}

/** What `cdk8s-pki plan --output json` prints (`schemas/plan.schema.json`). */
export interface Plan extends PlanReport {
  /** The app's output directory (cdk8s.yaml `output`), relative to the app's directory. */
  readonly outputDirectory: string;
  readonly outputFiles: OutputFileChange[];
}

/** The `app` and `output` of the app's cdk8s.yaml, as the cdk8s CLI reads them. */
export function readAppConfig(appDir: string): { app: string; output: string } {
  const file = path.join(appDir, 'cdk8s.yaml');
  let config: unknown;
  try {
    config = parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StateError(`${file}: cannot read it: ${(err as Error).message.split('\n')[0]}`);
  }
  const { app, output } = (config ?? {}) as { app?: unknown; output?: unknown };
  if (typeof app !== 'string' || app.trim() === '') throw new SpecError(`${file}: app`, `must be the command that runs the app (got ${JSON.stringify(app)})`);
  if (output !== undefined && typeof output !== 'string') throw new SpecError(`${file}: output`, `must be a directory (got ${JSON.stringify(output)})`);
  return { app, output: output ?? 'dist' };
}

/**
 * Runs the app in plan mode. The app's output and error lines go to stderr (stdout is the plan's); a failing
 * app is a StateError after them, which the command reports as exit 1.
 */
export function runPlan(appDir: string, env: NodeJS.ProcessEnv = process.env): Plan {
  const { app, output } = readAppConfig(appDir);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-pki-plan-'));
  try {
    const outdir = path.join(work, 'out');
    const planFile = path.join(work, 'plan.json');
    const result = spawnSync(app, { shell: true, cwd: appDir, env: { ...env, CDK8S_OUTDIR: outdir, [ENV_PLAN_FILE]: planFile }, stdio: ['ignore', 2, 2] });
    if (result.error) throw new StateError(`cannot run the app (${app}): ${result.error.message}`);
    if (result.status !== 0) throw new StateError(`the app (${app}) failed${result.status === null ? ` (${result.signal})` : ` with exit code ${result.status}`}; nothing was planned`);
    if (!fs.existsSync(planFile)) throw new StateError(`the app (${app}) wrote no plan: it has no cdk8s-pki construct, or never calls app.synth()`);
    const report = JSON.parse(fs.readFileSync(planFile, 'utf8')) as PlanReport;
    return { ...report, outputDirectory: output, outputFiles: outputChanges(outdir, path.resolve(appDir, output)) };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Files of `planned` that `current` lacks or holds with other bytes. Files only in `current` are not listed:
 * those written after the commit (Rancher's values file) are not written by a plan.
 */
function outputChanges(planned: string, current: string): OutputFileChange[] {
  const changes: OutputFileChange[] = [];
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(planned, relative), { withFileTypes: true })) {
      const name = path.posix.join(relative, entry.name);
      if (entry.isDirectory()) walk(name);
      else {
        const before = path.join(current, name);
        if (!fs.existsSync(before)) changes.push({ path: name, change: 'added' });
        else if (!fs.readFileSync(before).equals(fs.readFileSync(path.join(planned, name)))) changes.push({ path: name, change: 'modified' });
      }
    }
  };
  if (fs.existsSync(planned)) walk('');
  return changes.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * The plan for people: one line per change, aligned, the CA rotations first (what they cause follows); the
 * count of what is kept (or each, with `verbose`); what each rotation phase does; the export command.
 */
export function formatPlan(plan: Plan, options: { verbose?: boolean } = {}): string {
  const rows: [string, string, string][] = [];
  for (const r of plan.rotations) {
    if (r.action !== 'keep') rows.push([r.action === 'rollback' ? 'rollback' : 'phase', r.slot, describeTransition(r)]);
    else if (options.verbose && r.to !== 'none') rows.push(['keep', r.slot, describeTransition(r)]);
  }
  const keeps = plan.slots.filter((s) => s.action === 'keep');
  for (const s of plan.slots) {
    if (s.action !== 'keep') rows.push([s.action, s.slot, slotDetail(s)]);
    else if (options.verbose) rows.push(['keep', s.slot, s.renewAt ? `renewal from ${s.renewAt}` : '']);
  }
  for (const d of plan.documents) rows.push(['write', d.name, d.reasons.join('; ')]);
  for (const n of plan.nodes) {
    if (n.reexport) rows.push(['export', n.label, n.reasons.join('; ')]);
    else if (options.verbose) rows.push(['keep', n.label, 'node bundle unchanged']);
  }
  const widths = [0, 1].map((i) => Math.max(0, ...rows.map((r) => r[i].length)));
  const lines = rows.map(([action, name, why]) => `${action.padEnd(widths[0])}  ${name.padEnd(widths[1])}  ${why}`.trimEnd());
  if (!options.verbose) lines.push(`keep ${keeps.length}`);
  lines.push(...rotationEffects(plan));
  const command = exportCommand(plan);
  if (command) lines.push(`then: ${command}`);
  for (const rancher of rancherExportCommands(plan)) lines.push(`then: ${rancher.command}`);
  const files = plan.outputFiles.map((f) => `${f.path} (${f.change})`);
  if (files.length) lines.push(`${plan.outputDirectory}/ would change: ${files.join(', ')}`);
  lines.push(plan.changes ? `${plan.outputDirectory}/PKI.md describes the result after synth` : `no changes; ${plan.outputDirectory}/PKI.md describes the PKI`);
  return `${lines.join('\n')}\n`;
}
