import { App, Testing } from 'cdk8s';
import { synthApp, usePkiState } from '../../constructs';
import { PkiState } from '../../src/state/pki-state';
import { withSealedValuesMasked } from './reference-cluster';

/** The fixed clock of the examples' snapshots. */
export const EXAMPLE_CLOCK = () => new Date('2026-01-01T00:00:00Z');

/**
 * Synthesizes an example app (built by `build` into a fresh app) into an in-memory, seeded state on the fixed
 * clock, as `cdk8s synth` would, and returns what it writes by file (SealedSecret values masked), with the state
 * for export-node and plan checks.
 */
export function synthExample(build: (app: App) => void, options: { clock?: () => Date; seed?: string; state?: PkiState } = {}) {
  const app = Testing.app();
  const state = usePkiState(app, options.state ?? PkiState.inMemory({ clock: options.clock ?? EXAMPLE_CLOCK, seed: options.seed ?? 'example' }));
  build(app);
  const files = Object.fromEntries(Object.entries(synthApp(app)).map(([file, content]) => [file, typeof content === 'string' ? content : withSealedValuesMasked(content)]));
  return { app, state, files };
}
