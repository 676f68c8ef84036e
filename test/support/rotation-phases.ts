import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart, Testing } from 'cdk8s';
import { synthApp, usePkiState } from '../../constructs';
import { ExampleCluster, REFERENCE_CLUSTER } from '../../examples/main';
import { seededEntropy } from '../../src/engine/entropy';
import { exportNode } from '../../src/kubeadm/node-bundle';
import { PkiState } from '../../src/state/pki-state';
import { CaRotation } from '../../src/state/rotation-policy';
import { MemoryStore } from '../../src/state/store';
import { tempDir } from './programs';

/** A synth of the example app in one rotation phase; rollbacks name the phase they return to. */
export type PhaseStep = 'start' | 'trust-both' | 'issue-from-new' | 'drop-old' | 'rollback-to-trust-both' | 'rollback-to-start';

/** The rotation each step declares: a rollback declares the phase it returns to (the revert of its pull request). */
export const STEP_ROTATION: Record<PhaseStep, CaRotation | undefined> = {
  'start': undefined,
  'trust-both': { id: '2027', phase: 'trust-both' },
  'issue-from-new': { id: '2027', phase: 'issue-from-new' },
  'drop-old': { id: '2027', phase: 'drop-old' },
  'rollback-to-trust-both': { id: '2027', phase: 'trust-both' },
  'rollback-to-start': undefined,
};

export interface PhaseSnapshot<C extends Chart = ExampleCluster> {
  readonly state: PkiState;
  readonly chart: C;
  /** The chart's manifests as `cdk8s synth` writes them. */
  readonly manifests: unknown[];
  /** Everything the step's synth wrote, by file (`synthApp`): the manifests, PKI.md, the node review files. */
  readonly files: Record<string, unknown[] | string>;
  /** The directory of `node`'s exported /etc/kubernetes tree in this phase (exported on first use). */
  exportNode(node: string): string;
}

export interface PhaseRun<C extends Chart = ExampleCluster> {
  step(name: PhaseStep): PhaseSnapshot<C>;
  cleanup(): void;
}

export interface PhaseOptions<C extends Chart> {
  /** The clock of every step; without it, certificates are issued now, so real programs accept them. */
  readonly clock?: () => Date;
  /** Seeds each step's entropy (with the step's name, so that a new CA key is not the old one): for snapshots. */
  readonly seed?: string;
  /** Builds the app's one chart, declaring `rotation` on what it rotates; by default the example app of examples/main.ts. */
  readonly build?: (app: App, rotation: CaRotation | undefined) => C;
}

/**
 * The example app (the reference cluster, its Rancher ingress CA and the cert-manager issuer), declaring the
 * rotation on every authority of the cluster and on the ingress CA.
 */
const buildExampleApp = (app: App, rotation: CaRotation | undefined) =>
  new ExampleCluster(app, 'example', { cluster: { ...REFERENCE_CLUSTER, ...(rotation ? { caRotation: rotation } : {}) }, ingressCaRotation: rotation });

/**
 * Synthesizes an app (`options.build`, the example app by default) through `steps` in order on one state, each
 * step declaring its rotation and synthesizing as `cdk8s synth` would (validations, then the commit).
 */
export function synthPhases(steps: PhaseStep[], options?: Omit<PhaseOptions<ExampleCluster>, 'build'>): PhaseRun;
export function synthPhases<C extends Chart>(steps: PhaseStep[], options: PhaseOptions<C> & { build: PhaseOptions<C>['build'] }): PhaseRun<C>;
export function synthPhases(steps: PhaseStep[], options: PhaseOptions<Chart> = {}): PhaseRun<Chart> {
  const build = options.build ?? buildExampleApp;
  const store = new MemoryStore();
  const tmp = tempDir('cdk8s-pki-rotation-');
  const apps: string[] = [];
  const snapshots = new Map<PhaseStep, PhaseSnapshot<Chart>>();
  for (const step of steps) {
    const app = Testing.app();
    apps.push(app.outdir);
    const entropy = options.seed === undefined ? undefined : seededEntropy(`${options.seed}/${step}`);
    usePkiState(app, new PkiState({ store, clock: options.clock, entropy }));
    const chart = build(app, STEP_ROTATION[step]);
    const files = synthApp(app);
    // Exports read the state as this step left it: later steps write the same store.
    const exported = new Map<string, string>();
    const frozen = new PkiState({ store: snapshotStore(store), clock: options.clock });
    snapshots.set(step, {
      state: frozen,
      chart,
      manifests: chart.toJson(),
      files,
      exportNode: (node) => {
        if (!exported.has(node)) {
          const dir = path.join(tmp.dir, step, node);
          exportNode(frozen, node, dir);
          exported.set(node, dir);
        }
        return exported.get(node)!;
      },
    });
  }
  return {
    step: (name) => {
      const snapshot = snapshots.get(name);
      if (!snapshot) throw new Error(`step ${name} was not synthesized (steps: ${steps.join(', ')})`);
      return snapshot;
    },
    cleanup: () => {
      tmp.cleanup();
      for (const outdir of apps) fs.rmSync(outdir, { recursive: true, force: true });
    },
  };
}

/** A copy of `store` as it is now. */
function snapshotStore(store: MemoryStore): MemoryStore {
  const copy = new MemoryStore();
  for (const name of store.list()) copy.write(name, store.read(name)!, false);
  return copy;
}
