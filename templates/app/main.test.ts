import * as fs from 'fs';
import { Testing } from 'cdk8s';
import { PkiState, synthApp, usePkiState } from 'cdk8s-pki';
import { Cluster } from './main';

// A fixed clock and a seeded in-memory state: the same keys, serials and dates on every run, whatever today's date,
// and the real .pki/ is never read. The snapshot changes only when the spec does.
const clock = () => new Date('2026-01-01T00:00:00Z');

test('the app synthesizes to its snapshot: manifests, PKI.md and the node files', () => {
  const app = Testing.app();
  usePkiState(app, PkiState.inMemory({ clock, seed: 'snapshot' }));
  new Cluster(app, 'cluster');
  try {
    expect(synthApp(app)).toMatchSnapshot();
  } finally {
    fs.rmSync(app.outdir, { recursive: true, force: true });
  }
});
