import * as fs from 'node:fs';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { usePkiState } from '../../constructs';
import { ExampleCluster, REFERENCE_CLUSTER } from '../../examples/main';
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

export interface PhaseSnapshot {
  readonly state: PkiState;
  readonly chart: ExampleCluster;
  /** The chart's manifests as `cdk8s synth` writes them. */
  readonly manifests: unknown[];
  /** The directory of `node`'s exported /etc/kubernetes tree in this phase (exported on first use). */
  exportNode(node: string): string;
}

export interface PhaseRun {
  step(name: PhaseStep): PhaseSnapshot;
  cleanup(): void;
}

/**
 * Synthesizes the example app (the reference cluster, its Rancher ingress CA and the cert-manager issuer) through
 * `steps` in order on one state, each step declaring its rotation on every authority of the cluster and on the
 * ingress CA, and committing as `cdk8s synth` would. Without `clock`, certificates are issued now, so real
 * programs accept them.
 */
export function synthPhases(steps: PhaseStep[], options: { clock?: () => Date } = {}): PhaseRun {
  const store = new MemoryStore();
  const tmp = tempDir('cdk8s-pki-rotation-');
  const apps: string[] = [];
  const snapshots = new Map<PhaseStep, PhaseSnapshot>();
  for (const step of steps) {
    const app = Testing.app();
    apps.push(app.outdir);
    const state = usePkiState(app, new PkiState({ store, clock: options.clock }));
    const rotation = STEP_ROTATION[step];
    const chart = new ExampleCluster(app, 'example', { cluster: { ...REFERENCE_CLUSTER, ...(rotation ? { caRotation: rotation } : {}) }, ingressCaRotation: rotation });
    const manifests = Testing.synth(chart);
    state.commit();
    // Exports read the state as this step left it: later steps write the same store.
    const exported = new Map<string, string>();
    const frozen = new PkiState({ store: snapshotStore(store), clock: options.clock });
    snapshots.set(step, {
      state: frozen,
      chart,
      manifests,
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
