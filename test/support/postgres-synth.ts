// The miniature synth of the state tests (a CA and a leaf under it) against the state $CDK8S_PKI_STATE names,
// with the environment's age keys, as a process a test can SIGKILL. The CA is valid for <days> days: another
// value re-issues the CA and the leaf, a commit of several rows.
//   synth <days>               a whole synth
//   kill-in-commit <days> <ms> a whole synth, SIGKILLed <ms> after its commit starts (by a thread: the main
//                              thread is blocked on the database meanwhile)
// Prints "committing" once the synth has read the state and is about to commit.
// Usage: node postgres-synth.js <mode> <days> [ms]
import { Worker } from 'node:worker_threads';
import { stateStoreFromEnvironment } from '../../src/state/environment';
import { PkiState } from '../../src/state/pki-state';
import { issueCaAndLeaf } from './mini-pki';

const [mode, days, delay] = process.argv.slice(2);
const state = new PkiState({ store: stateStoreFromEnvironment() });
issueCaAndLeaf(state, Number(days));
process.stdout.write('committing\n');
if (mode === 'kill-in-commit') {
  const started = new Int32Array(new SharedArrayBuffer(4));
  const killer = `const { workerData } = require('node:worker_threads');
    setTimeout(() => process.kill(${process.pid}, 'SIGKILL'), ${Number(delay)});
    Atomics.store(workerData, 0, 1);
    Atomics.notify(workerData, 0);`;
  new Worker(killer, { eval: true, workerData: started });
  // The commit below starts once the timer is set.
  Atomics.wait(started, 0, 0);
}
state.commit();
