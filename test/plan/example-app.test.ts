// The example app through the repository's cdk8s.yaml, in a directory of its own (so dist/ and .pki/ are the
// test's): `plan` right after its synth has nothing to do.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../support/programs';
import { childEnv, CLI } from './support';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
const tmp = tempDir('cdk8s-pki-plan-example-');
afterAll(() => tmp.cleanup());

test('plan right after the example app synthesized: exit 0', () => {
  fs.copyFileSync(path.join(ROOT, 'cdk8s.yaml'), path.join(tmp.dir, 'cdk8s.yaml'));
  for (const entry of ['examples', 'node_modules', 'package.json', 'tsconfig.json']) fs.symlinkSync(path.join(ROOT, entry), path.join(tmp.dir, entry));
  const { app } = parse(fs.readFileSync(path.join(tmp.dir, 'cdk8s.yaml'), 'utf8')) as { app: string };
  const run = (program: string, args: string[]) => spawnSync(program, args, { cwd: tmp.dir, env: childEnv(), encoding: 'utf8', timeout: 180_000 });
  const synth = run('sh', ['-c', app]);
  expect([synth.status, synth.stderr]).toEqual([0, expect.stringMatching(/^cdk8s-pki: issued \d+ new/)]);
  const plan = run(process.execPath, [CLI, 'plan']);
  expect([plan.status, plan.stderr, plan.stdout]).toEqual([0, '', expect.stringMatching(/^keep \d+\nno changes; dist\/PKI\.md describes the PKI\n$/)]);
}, 180_000);
