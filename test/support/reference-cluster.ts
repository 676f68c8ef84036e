import * as path from 'node:path';
import { App, Testing } from 'cdk8s';
import { ControlPlanePki, usePkiState } from '../../constructs';
import { ClusterSpec } from '../../src/kubeadm/cluster-spec';
import { exportNode } from '../../src/kubeadm/node-bundle';
import { ExampleCluster, REFERENCE_CLUSTER } from '../../examples/main';
import { PkiState } from '../../src/state/pki-state';
import { tempDir } from './programs';

/**
 * Synthesizes the app `build` makes (into a fresh app; it returns the app's ControlPlanePki) into an in-memory
 * state and commits it, as `cdk8s synth` would. Without `clock`, certificates are issued now, so real programs
 * accept them.
 */
export function synthCluster<T extends { readonly pki: ControlPlanePki }>(build: (app: App) => T, options: { clock?: () => Date; seed?: string } = {}) {
  const app = Testing.app();
  const state = usePkiState(app, PkiState.inMemory({ clock: options.clock, seed: options.seed }));
  const chart = build(app);
  state.commit();
  return { app, chart, state, pki: chart.pki };
}

/** The example app (the reference cluster unless `cluster` is given), synthesized as `synthCluster` does. */
export function synthReferenceCluster(options: { cluster?: ClusterSpec; clock?: () => Date; seed?: string } = {}) {
  return synthCluster((app) => new ExampleCluster(app, 'example', { cluster: options.cluster ?? REFERENCE_CLUSTER }), options);
}

/** Exports `node`'s /etc/kubernetes tree into a fresh temporary directory; `cleanup()` removes it. */
export function exportToTemp(state: PkiState, node: string): { dir: string; file: (relative: string) => string; cleanup: () => void } {
  const tmp = tempDir(`cdk8s-pki-${node}-`);
  const dir = path.join(tmp.dir, 'etc-kubernetes');
  exportNode(state, node, dir);
  return { dir, file: (relative) => path.join(dir, relative), cleanup: tmp.cleanup };
}

/**
 * Documents with each SealedSecret value replaced by a placeholder: sealing is randomized (RSA-OAEP, a random
 * session key) and a fresh state seals anew, so snapshots compare everything but the ciphertext, whose
 * correctness and stability are tested against a controller in secret-output.test.ts.
 */
export function withSealedValuesMasked<T>(documents: T[]): T[] {
  return documents.map((doc) => {
    const sealed = doc as { kind?: string; spec?: { encryptedData?: Record<string, string> } };
    if (sealed.kind !== 'SealedSecret' || !sealed.spec?.encryptedData) return doc;
    const masked = Object.fromEntries(Object.keys(sealed.spec.encryptedData).map((key) => [key, '<sealed>']));
    return { ...doc, spec: { ...sealed.spec, encryptedData: masked } };
  });
}
