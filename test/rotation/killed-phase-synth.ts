// A small cluster app synthesized into a directory state with a CA rotation phase declared, SIGKILLed part-way
// through its commit, as a CI runner or an OOM killer would stop `cdk8s synth`. Seeded keys and a fixed clock,
// so a synth that was killed and resumed can be compared byte for byte with one that never was.
//   list 0      a whole synth that prints the name of each state write, in order, before making it
//   after <n>   before state write n+1 starts (n whole writes on disk)
//   during <n>  inside state write n+1, once its temp file is written and fsynced, before it is renamed
//   none 0      a whole synth
// Usage: node killed-phase-synth.js <state-dir> <out-dir> <phase|none> <mode> <n>
import type * as FsModule from 'node:fs';
import { App, Chart, Duration } from 'cdk8s';
import { ControlPlanePki, usePkiState } from '../../constructs';
import { seededEntropy } from '../../src/engine/entropy';
import { RotationPhase } from '../../src/state/rotation-policy';
import { PkiState } from '../../src/state/pki-state';
import { DirectoryStore } from '../../src/state/store';

const [directory, outdir, phase, mode, count] = process.argv.slice(2);
const kill = () => process.kill(process.pid, 'SIGKILL');
// The module object itself (not an import binding), so that the store's own calls go through the patches below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs: { -readonly [K in keyof typeof FsModule]: (typeof FsModule)[K] } = require('node:fs');

class DyingStore extends DirectoryStore {
  private writes = 0;
  write(name: string, data: Buffer, exclusive: boolean): void {
    const n = this.writes++;
    if (mode === 'list') process.stdout.write(`${name}\n`);
    if (mode === 'after' && n === Number(count)) kill();
    if (mode === 'during' && n === Number(count)) {
      fs.renameSync = kill;
      fs.linkSync = kill;
    }
    super.write(name, data, exclusive);
  }
}

const state = new PkiState({ store: new DyingStore(directory), clock: () => new Date('2026-06-01T12:00:00Z'), entropy: seededEntropy('killed-phase-synth') });
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
