import * as crypto from 'node:crypto';
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { generateKey, KeyAlgorithm } from './keys';

/**
 * RSA keys made ahead on a second core. Generating an RSA key takes 50–500 ms and a synth draws its keys one at a
 * time from synchronous construct code, so a cold RSA synth was key generation on one core. Once told how many
 * keys are coming, and once the first of them is drawn (a synth that keeps its keys starts nothing), a worker
 * thread generates keys while the main thread generates its own: `take` returns a finished key of the worker's
 * when there is one (`receiveMessageOnPort`, synchronous) and otherwise generates one itself.
 *
 * The worker makes no more keys than announced and not yet drawn (a shared counter both threads claim from), then
 * waits; it is unref'd so that it never keeps a process alive, and `stop` (the state's commit) terminates it.
 */
export class KeyPool {
  /** Keys announced and not yet claimed by either thread (Int32 0). */
  private readonly unclaimed = new Int32Array(new SharedArrayBuffer(4));
  /** Keys announced and not yet returned by `take`. */
  private outstanding = 0;
  private worker?: { readonly thread: Worker; readonly port: MessagePort };
  /** A key of the worker's, received and not yet taken. */
  private received?: crypto.KeyObject;

  constructor(readonly algorithm: KeyAlgorithm) {}

  /** `count` more keys of the pool's algorithm will be drawn. */
  expect(count: number): void {
    this.outstanding += count;
    Atomics.add(this.unclaimed, 0, count);
    Atomics.notify(this.unclaimed, 0);
  }

  /** Whether a key of the worker's is ready to be taken. */
  get hasReadyKey(): boolean {
    this.received ??= this.receive();
    return this.received !== undefined;
  }

  /** A new key: the worker's when one is ready, else generated here. */
  take(): crypto.KeyObject {
    let key = this.received ?? this.receive();
    this.received = undefined;
    if (!key) {
      // Claimed, so the worker does not make one key too many; a key beyond the announced count is made here anyway.
      claim(this.unclaimed);
      if (!this.worker && this.outstanding > 1) this.worker = this.startWorker();
      key = generateKey(this.algorithm);
    }
    this.outstanding = Math.max(0, this.outstanding - 1);
    return key;
  }

  private receive(): crypto.KeyObject | undefined {
    return this.worker && (receiveMessageOnPort(this.worker.port)?.message as crypto.KeyObject | undefined);
  }

  /** Ends the worker (a key it is making is dropped); later keys are generated here until more are announced. */
  stop(): void {
    void this.worker?.thread.terminate();
    this.worker = undefined;
    this.received = undefined;
    Atomics.store(this.unclaimed, 0, 0);
    this.outstanding = 0;
  }

  private startWorker(): { thread: Worker; port: MessagePort } {
    const { port1, port2 } = new MessageChannel();
    const thread = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { port: port2, unclaimed: this.unclaimed, modulusLength: Number(this.algorithm.slice('rsa-'.length)) },
      transferList: [port2],
    });
    // A worker that cannot run (no threads here, say) only means every key is generated on the main thread.
    thread.on('error', () => {
      if (this.worker?.thread === thread) this.worker = undefined;
    });
    thread.unref();
    port1.unref();
    return { thread, port: port1 };
  }
}

/** Takes one unclaimed key, if any is left. */
function claim(unclaimed: Int32Array): void {
  for (;;) {
    const left = Atomics.load(unclaimed, 0);
    if (left <= 0 || Atomics.compareExchange(unclaimed, 0, left, left - 1) === left) return;
  }
}

// Plain JavaScript evaluated in the worker, so that it runs the same from lib/ and from TypeScript sources (ts-node, jest).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const { port, unclaimed, modulusLength } = workerData;
for (;;) {
  const left = Atomics.load(unclaimed, 0);
  if (left <= 0) { Atomics.wait(unclaimed, 0, left); continue; }
  if (Atomics.compareExchange(unclaimed, 0, left, left - 1) !== left) continue;
  port.postMessage(crypto.generateKeyPairSync('rsa', { modulusLength, publicExponent: 65537 }).privateKey);
}
`;


/** Whether keys of `algorithm` are slow enough to be worth a second core. */
export function poolable(algorithm: KeyAlgorithm): boolean {
  return algorithm.startsWith('rsa-');
}
