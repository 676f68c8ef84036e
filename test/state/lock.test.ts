import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StateError } from '../../src/engine/errors';
import { acquireLock, staleReason } from '../../src/state/lock';
import { tempDir } from '../support/programs';

const BOOT_ID = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
/** A PID above the kernel's pid_max: no process has it. */
const DEAD_PID = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
const lockOf = (pid: number, host = os.hostname(), bootId = BOOT_ID, start = '1', nonce = 'n0nce') => `${pid}@${host}@${bootId}@${start}@${nonce}`;
const compiled = (name: string) => {
  const script = path.resolve(__dirname, `../../lib/test/state/${name}.js`);
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` (npm test does it)`);
  return script;
};

describe('the state lock', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  test('4 processes taking over one dead holder\'s lock at once: one holder at a time, every one gets it, 200 rounds', async () => {
    const rounds = 200;
    const contenders = 4;
    for (let round = 0; round < rounds; round++) {
      fs.mkdirSync(path.join(tmp.dir, String(round)));
      fs.writeFileSync(path.join(tmp.dir, String(round), '.lock-1'), lockOf(DEAD_PID));
    }
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: contenders }, (_, id) =>
        new Promise<{ overlaps: number; code: number | null; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, [compiled('lock-contender'), tmp.dir, String(rounds), String(contenders), String(id)]);
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d) => (stdout += d));
          child.stderr.on('data', (d) => (stderr += d));
          child.on('close', (code) => resolve({ overlaps: stdout ? JSON.parse(stdout).overlaps : -1, code, stderr }));
        }),
      ),
    );
    process.stdout.write(`lock race: ${rounds} rounds of ${contenders} contenders in ${Date.now() - started} ms\n`);
    expect(results.map((r) => [r.code, r.stderr])).toEqual(Array(contenders).fill([0, '']));
    expect(results.map((r) => r.overlaps)).toEqual(Array(contenders).fill(0));
    for (let round = 0; round < rounds; round++) {
      const entered = fs.readFileSync(path.join(tmp.dir, String(round), 'entered'), 'utf8').trim().split('\n').sort();
      expect(entered).toEqual(['0', '1', '2', '3']);
    }
  }, 120_000);

  test.each([
    ['a lock naming no holder (empty)', '', 'it names no holder'],
    ['a dead process', lockOf(DEAD_PID), 'its holder is gone'],
    ['this very PID with another nonce (a container\'s PID 1 after a restart)', lockOf(process.pid), 'its holder was an earlier process with this PID'],
    ['a holder before the last reboot', lockOf(process.ppid, os.hostname(), 'another-boot'), 'its holder ran before the last reboot'],
    ['a reused PID (another start time)', lockOf(process.ppid, os.hostname(), BOOT_ID, '1'), 'its PID now belongs to another process'],
  ])('%s is stale and taken over at once', (_, content, reason) => {
    expect(staleReason(content)).toBe(reason);
    fs.writeFileSync(path.join(tmp.dir, '.lock-7'), content);
    const lock = acquireLock(tmp.dir, { waitMs: 0 });
    expect(path.basename(lock.file)).toBe('.lock-8');
    lock.release();
  });

  test('a live holder of this host is waited for; one on another host is named with the file to remove', () => {
    const parentStart = fs.readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
    const start = parentStart.slice(parentStart.lastIndexOf(')') + 2).split(' ')[19];
    expect(staleReason(lockOf(process.ppid, os.hostname(), BOOT_ID, start))).toBeUndefined();
    fs.writeFileSync(path.join(tmp.dir, '.lock-3'), lockOf(4242, 'ci-runner-7'));
    expect(() => acquireLock(tmp.dir, { waitMs: 50 })).toThrow(
      new StateError(`cannot lock ${tmp.dir}: held by process 4242 on host ci-runner-7 (another synth running?); if no synth is running on ci-runner-7, remove ${path.join(tmp.dir, '.lock-3')}`),
    );
  });

  test('release removes only the holder\'s own lock; a released lock is free for the next', () => {
    const lockFiles = () => fs.readdirSync(tmp.dir).filter((f) => f.startsWith('.lock-'));
    const first = acquireLock(tmp.dir);
    first.release();
    expect(lockFiles()).toEqual([]);
    const second = acquireLock(tmp.dir, { waitMs: 0 });
    expect(second.file).toBe(first.file);
    first.release(); // a stale handle: the file of that name now holds the second holder's nonce
    expect(lockFiles()).toEqual(['.lock-1']);
    // Another process waits for the live holder, then gives up naming it.
    const other = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(compiled('../../src/state/lock'))}).acquireLock(${JSON.stringify(tmp.dir)}, { waitMs: 100 })`], { encoding: 'utf8' });
    expect(other.stderr).toContain(`held by process ${process.pid} on host ${os.hostname()}`);
    second.release();
    expect(lockFiles()).toEqual([]);
  });

  test('a synth killed while holding the lock does not block the next one', () => {
    const child = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(compiled('../../src/state/lock'))}).acquireLock(${JSON.stringify(tmp.dir)}); process.kill(process.pid, 'SIGKILL')`]);
    expect(child.signal).toBe('SIGKILL');
    expect(fs.readdirSync(tmp.dir)).toEqual(['.lock-1']);
    acquireLock(tmp.dir, { waitMs: 0 }).release();
  });
});
