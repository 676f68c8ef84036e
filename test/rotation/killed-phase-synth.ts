// A small cluster app synthesized into a directory state with a CA rotation phase declared, SIGKILLed part-way
// through its commit, as a CI runner or an OOM killer would stop `cdk8s synth`. Seeded keys and a fixed clock,
// so a synth that was killed and resumed can be compared byte for byte with one that never was.
// Modes: those of test/support/dying-store.ts.
// Usage: node killed-phase-synth.js <state-dir> <out-dir> <phase|none> <mode> <n>
import { App, Chart, Duration } from 'cdk8s';
import { ControlPlanePki, usePkiState } from '../../constructs';
import { seededEntropy } from '../../src/engine/entropy';
import { RotationPhase } from '../../src/state/rotation-policy';
import { PkiState } from '../../src/state/pki-state';
import { DyingStore } from '../support/dying-store';

const [directory, outdir, phase, mode, count] = process.argv.slice(2);
const state = new PkiState({ store: new DyingStore(directory, mode, Number(count)), clock: () => new Date('2026-06-01T12:00:00Z'), entropy: seededEntropy('killed-phase-synth') });
const app = new App({ outdir });
usePkiState(app, state);
new ControlPlanePki(new Chart(app, 'demo'), 'pki', {
  cluster: {
    controlPlaneEndpoint: 'api.demo.internal:6443',
    nodes: [
      { name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' },
      { name: 'worker-1', role: 'worker' },
    ],
    ...(phase === 'none' ? {} : { caRotation: { id: '2027', phase: phase as RotationPhase } }),
  },
  tlsBootstrap: { token: { ttl: Duration.seconds(0) } },
});
app.synth();
