import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PkiState } from '../../src/state/pki-state';
import { runOk, tempDir } from '../support/programs';

/** The compiled test/support/killed-synth.ts in its `none` mode: a whole miniature synth (a CA and a leaf). */
function synthProcess(dir: string): Promise<number | null> {
  const script = path.resolve(__dirname, '../../lib/test/support/killed-synth.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` (npm test does it)`);
  return new Promise((resolve) => spawn(process.execPath, [script, dir, 'none', '0'], { stdio: 'ignore' }).on('close', resolve));
}

test('two synths at once with a CA renewal pending: the leaf in the state always verifies under the CA in the state', async () => {
  const tmp = tempDir();
  try {
    const dir = path.join(tmp.dir, '.pki');
    expect(await synthProcess(dir)).toBe(0);
    for (let round = 0; round < 10; round++) {
      PkiState.inDirectory(dir).requestRotation('cluster/ca', { newKey: false });
      const codes = await Promise.all([synthProcess(dir), synthProcess(dir)]);
      // One may lose the race (it says so and writes nothing); at least one carries the renewal out.
      expect(codes).toContain(0);
      const ca = JSON.parse(fs.readFileSync(path.join(dir, 'cluster/ca/certificate.json'), 'utf8'));
      const leaf = JSON.parse(fs.readFileSync(path.join(dir, 'cluster/apiserver/certificate.json'), 'utf8'));
      expect(ca.renewalRequested).toBeUndefined();
      runOk('openssl', ['verify', '-CAfile', tmp.file('ca.pem', ca.certificate), tmp.file('leaf.pem', leaf.certificate)]);
      expect(leaf.chain).toEqual([ca.certificate]);
    }
  } finally {
    tmp.cleanup();
  }
}, 120_000);
