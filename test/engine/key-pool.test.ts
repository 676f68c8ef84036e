// RSA keys made ahead on a worker thread: what the pool hands out must be as good as a key made on the main
// thread (openssl checks each one) and never the same key twice; a synth under system entropy gets them.
import * as crypto from 'node:crypto';
import { KeyPool } from '../../src/engine/key-pool';
import * as keys from '../../src/engine/keys';
import { PkiState } from '../../src/state/pki-state';
import { runOk, tempDir } from '../support/programs';

jest.setTimeout(300_000);

const YEAR = 365 * 24 * 3600;

/** openssl's own check of an RSA private key, and its size as openssl reads it. */
function opensslRsaBits(key: crypto.KeyObject): number {
  const text = runOk('openssl', ['rsa', '-check', '-noout', '-text'], { input: keys.privateKeyToPem(key) });
  expect(text).toContain('RSA key ok');
  return Number(/Private-Key: \((\d+) bit/.exec(text)![1]);
}

const spkiHex = (key: crypto.KeyObject) => keys.spkiDer(key).toString('hex');

async function until(condition: () => boolean): Promise<void> {
  // A wait, not a timed assertion: the worker's first key arrives when the machine gets to it.
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 50));
}

afterEach(() => jest.restoreAllMocks());

describe('KeyPool', () => {
  it('hands out the worker’s keys, valid and distinct, and the main thread’s when none is ready', async () => {
    const generated = jest.spyOn(keys, 'generateKey');
    const pool = new KeyPool('rsa-2048');
    pool.expect(3);
    const first = pool.take(); // nothing is ready yet: made here, and the worker starts
    expect(generated).toHaveBeenCalledTimes(1);
    await until(() => pool.hasReadyKey);
    const second = pool.take();
    expect(generated).toHaveBeenCalledTimes(1); // the worker's
    const third = pool.take();
    pool.stop();
    const all = [first, second, third];
    expect(all.map(opensslRsaBits)).toEqual([2048, 2048, 2048]);
    expect(new Set(all.map(spkiHex)).size).toBe(3);
  });

  it('starts no worker for a key drawn alone, and makes keys beyond the announced count on the main thread', () => {
    const generated = jest.spyOn(keys, 'generateKey');
    const pool = new KeyPool('rsa-2048');
    pool.expect(1);
    const drawn = [pool.take(), pool.take()];
    expect(generated).toHaveBeenCalledTimes(2);
    expect(pool.hasReadyKey).toBe(false);
    pool.stop();
    expect(drawn.map(opensslRsaBits)).toEqual([2048, 2048]);
  });
});

describe('a state under system entropy told to expect RSA keys', () => {
  it('issues certificates that openssl verifies, each with its own 2048-bit RSA key', () => {
    const state = PkiState.inMemory();
    state.expectKeys('rsa-2048', 4);
    const ca = state.ensure({ slot: 'ca', keyAlgorithm: 'rsa-2048', spec: { subject: { commonName: 'rsa-ca' }, ca: {}, validitySeconds: 10 * YEAR } });
    const issuer = { certificate: ca.certificate, privateKey: ca.privateKey, chain: ca.chain };
    const leaves = [1, 2, 3].map((i) =>
      state.ensure({ slot: `leaf-${i}`, keyAlgorithm: 'rsa-2048', issuer, spec: { subject: { commonName: `leaf-${i}` }, extendedKeyUsage: ['clientAuth'], validitySeconds: YEAR } }),
    );
    state.commit(); // stops the pool's worker
    const tmp = tempDir();
    try {
      const caFile = tmp.file('ca.crt', ca.certificate.pem);
      for (const leaf of leaves) {
        expect(runOk('openssl', ['verify', '-CAfile', caFile, tmp.file(`${leaf.slot}.crt`, leaf.certificate.pem)])).toContain(': OK');
        expect(keys.samePublicKey(leaf.privateKey, leaf.certificate.publicKey)).toBe(true);
      }
    } finally {
      tmp.cleanup();
    }
    const all = [ca, ...leaves].map((credential) => credential.privateKey!);
    expect(all.map(opensslRsaBits)).toEqual([2048, 2048, 2048, 2048]);
    expect(new Set(all.map(spkiHex)).size).toBe(4);
  });
});
