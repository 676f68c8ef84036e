// One contender of the lock-race test: for each round directory, wait until every contender is ready, then
// take the state lock (whose previous holder is dead), hold it briefly, and release it. While holding it, it
// creates `holder` with O_EXCL: a second holder at the same moment finds it there and reports an overlap.
// Usage: node lock-contender.js <rounds-dir> <rounds> <contenders> <id>
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acquireLock } from '../../src/state/lock';

const [roundsDir, rounds, contenders, id] = process.argv.slice(2);
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
let overlaps = 0;
for (let round = 0; round < Number(rounds); round++) {
  const dir = path.join(roundsDir, String(round));
  fs.writeFileSync(path.join(dir, `ready-${id}`), '');
  while (fs.readdirSync(dir).filter((f) => f.startsWith('ready-')).length < Number(contenders)) pause(1);
  const lock = acquireLock(dir);
  try {
    fs.writeFileSync(path.join(dir, 'holder'), id, { flag: 'wx' });
  } catch {
    overlaps++;
  }
  pause(2);
  fs.rmSync(path.join(dir, 'holder'), { force: true });
  fs.appendFileSync(path.join(dir, 'entered'), `${id}\n`);
  lock.release();
}
process.stdout.write(JSON.stringify({ overlaps }));
