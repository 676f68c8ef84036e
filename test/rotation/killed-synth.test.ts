// A synth killed (SIGKILL) while it commits a CA rotation phase: the next synth completes the phase, the state
// then holds what a synth that was never killed writes (seeded keys and a fixed clock make that byte for byte),
// and no CA key file ever changes or disappears. The moments are picked from the write order of a whole synth.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { snapshotDir, tempDir } from '../support/programs';

const SCRIPT = path.resolve(__dirname, '../../lib/test/rotation/killed-phase-synth.js');
const tmp = tempDir('cdk8s-pki-killed-phase-');
afterAll(() => tmp.cleanup());

let runs = 0;
/** The compiled killed-phase-synth.ts (`npm test` builds lib/ first) on the state `dir`. */
function synth(dir: string, phase: string, mode: 'list' | 'after' | 'during' | 'none' = 'none', n = 0) {
  if (!fs.existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: run \`npm run build\` (npm test does it)`);
  const outdir = path.join(tmp.dir, `out-${runs++}`);
  return spawnSync(process.execPath, [SCRIPT, dir, outdir, phase, mode, String(n)], { encoding: 'utf8', timeout: 60_000 });
}

function synthOk(dir: string, phase: string, mode: 'list' | 'none' = 'none') {
  const result = synth(dir, phase, mode);
  expect([result.status, result.signal]).toEqual([0, null]);
  return result;
}

/** The state's files by content, without the lock's (every locked commit moves it on). */
function stateFiles(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshotDir(dir)).filter(([name]) => !/(^|\/)\.(un)?lock-\d+$/.test(name)));
}

/** The names whose content differs between two `stateFiles` (a short failure message for a big state). */
const differing = (a: Record<string, string>, b: Record<string, string>) => [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((name) => a[name] !== b[name]).sort();

/** SHA-256 of every CA key file (`<ca slot>/key-<n>.pem`), by path. */
function caKeys(dir: string): Record<string, string> {
  const cas = ['demo/pki/ca', 'demo/pki/etcd-ca', 'demo/pki/front-proxy-ca', 'demo/pki/sa'];
  const keys: Record<string, string> = {};
  for (const slot of cas) {
    const slotDir = path.join(dir, slot);
    for (const file of fs.existsSync(slotDir) ? fs.readdirSync(slotDir) : []) {
      if (/^key-\d+\.pem$/.test(file)) keys[`${slot}/${file}`] = crypto.createHash('sha256').update(fs.readFileSync(path.join(slotDir, file))).digest('hex');
    }
  }
  return keys;
}

const copy = (from: string, name: string) => {
  const to = path.join(tmp.dir, name);
  fs.cpSync(from, to, { recursive: true });
  return to;
};

/** Every CA key file of `before` is still there with the same bytes (new ones may have been added). */
function keysKept(before: Record<string, string>, after: Record<string, string>): void {
  expect(Object.fromEntries(Object.keys(before).map((file) => [file, after[file]]))).toEqual(before);
}

type Moment = readonly [mode: 'after' | 'during', n: number];

/** A moment of the commit, picked from the write order of a whole synth of the same transition. */
interface Pick {
  readonly name: string;
  readonly at: (writes: string[]) => Moment;
}

const afterJournal: Pick = { name: 'after the commit journal only', at: () => ['after', 1] };
const insideLast: Pick = { name: 'inside the last write', at: (writes) => ['during', writes.length - 1] };

describe.each([
  // The phase in the state, the phase the killed synth commits, and the moments tried.
  {
    from: 'none',
    to: 'trust-both',
    picks: [
      afterJournal,
      { name: 'after the first new CA key', at: (writes: string[]) => ['after', writes.findIndex((w) => /\/ca\/key-2\.pem$/.test(w)) + 1] as Moment },
      { name: 'inside the first rotation record', at: (writes: string[]) => ['during', writes.findIndex((w) => w.endsWith('/rotation.json'))] as Moment },
      insideLast,
    ],
  },
  {
    from: 'trust-both',
    to: 'issue-from-new',
    picks: [
      afterJournal,
      {
        name: 'between the swapped certificate record and its rotation record',
        at: (writes: string[]) => ['after', writes.findIndex((w) => w.endsWith('/rotation.json'))] as Moment,
      },
      insideLast,
    ],
  },
] as { from: string; to: string; picks: Pick[] }[])('a synth killed while committing $from → $to', ({ from, to, picks }) => {
  let base: string;
  let reference: Record<string, string>;
  let writes: string[];

  beforeAll(() => {
    base = path.join(tmp.dir, `base-${to}`);
    synthOk(base, 'none');
    if (from !== 'none') synthOk(base, from);
    const whole = copy(base, `whole-${to}`);
    writes = synthOk(whole, to, 'list').stdout.trimEnd().split('\n');
    reference = stateFiles(whole);
  });

  test('the write order has the journal first and a rotation record in it', () => {
    expect(writes[0]).toBe('.commit.json');
    expect(writes.some((name) => name.endsWith('/rotation.json'))).toBe(true);
  });

  /** Killed at the moment, then resumed: the never-killed state, every CA key file kept throughout. */
  const trial = (pick: Pick) => () => {
    const [mode, n] = pick.at(writes);
    const dir = copy(base, `trial-${to}-${mode}-${n}`);
    const keysBefore = caKeys(dir);
    const killed = synth(dir, to, mode, n);
    expect(killed.signal).toBe('SIGKILL');
    keysKept(keysBefore, caKeys(dir));
    const keysKilled = caKeys(dir);
    synthOk(dir, to);
    keysKept(keysKilled, caKeys(dir));
    expect(differing(stateFiles(dir), reference)).toEqual([]);
    const rotation = JSON.parse(fs.readFileSync(path.join(dir, 'demo/pki/ca/rotation.json'), 'utf8'));
    expect([rotation.id, rotation.phase]).toEqual(['2027', to]);
  };
  for (const pick of picks) test(`${pick.name}: resumes into the never-killed state, every CA key file kept`, trial(pick));
});
