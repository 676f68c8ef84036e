// State encryption benchmark: age (X25519 and passphrase) per state file, and whole synths of the reference
// cluster against a plaintext, an age X25519 and a passphrase-encrypted state directory. Prints and writes
// bench/results/state-encryption.md. Run with `npm run bench:state-encryption`; $BENCH_PASSPHRASE_RUNS sets how many
// synths of each kind run against a passphrase state (default 1; each file costs one scrypt, ~0.5 s; 0 skips them).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'cdk8s';
import { usePkiState } from '../constructs';
import { ExampleCluster } from '../examples/main';
import { decrypt, encrypt, generateIdentity } from '../src/state/age';
import { PkiState } from '../src/state/pki-state';
import { DirectoryStore, EncryptedDirectoryStore, StateStore } from '../src/state/store';
import { envCount, repeat, Row, stats, statsTable, writeResults } from './measure';

const PASSPHRASE_RUNS = envCount('BENCH_PASSPHRASE_RUNS', 1);
const FILE = crypto.randomBytes(1024); // about a state file: a key PEM or a certificate record
const rows: Row[] = [];
const record = (label: string, samples: number[]) => rows.push({ label, stats: stats(samples) });
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-pki-bench-age-'));

try {
  const { identity, recipient } = generateIdentity();
  const sealed = encrypt(FILE, [recipient]);
  record('age X25519: encrypt 1 KiB', repeat(200, () => encrypt(FILE, [recipient])));
  record('age X25519: decrypt 1 KiB', repeat(200, () => decrypt(sealed, [identity])));
  const passphrase = { passphrase: 'correct horse battery staple' };
  const byPassphrase = encrypt(FILE, passphrase);
  record('age scrypt (work factor 18): encrypt 1 KiB', repeat(5, () => encrypt(FILE, passphrase)));
  record('age scrypt (work factor 18): decrypt 1 KiB', repeat(5, () => decrypt(byPassphrase, passphrase)));

  // The example app (reference cluster, TLS bootstrapping, cert-manager issuer, Rancher) into a state directory:
  // a first synth writes every file, a second reads them all and writes nothing.
  const synth = (store: () => StateStore, i: number) => {
    const app = new App({ outdir: path.join(scratch, `dist-${i}`) });
    usePkiState(app, new PkiState({ store: store() }));
    new ExampleCluster(app, 'example');
    app.synth();
  };
  const keys = { recipients: [recipient], identities: [identity] };
  const passphraseKeys = { recipients: passphrase, identities: passphrase };
  for (const [label, store, runs] of [
    ['plaintext', (dir: string) => new DirectoryStore(dir), 5],
    ['age X25519', (dir: string) => new EncryptedDirectoryStore(dir, keys), 5],
    ['age passphrase (scrypt, work factor 18)', (dir: string) => new EncryptedDirectoryStore(dir, passphraseKeys), PASSPHRASE_RUNS],
  ] as const) {
    if (runs === 0) continue;
    record(`example app, first synth, ${label} state directory`, repeat(runs, (i) => synth(() => store(path.join(scratch, `${label}-${i}`)), i)));
    record(`example app, repeat synth, ${label} state directory`, repeat(runs, (i) => synth(() => store(path.join(scratch, `${label}-${i}`)), i)));
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}

writeResults('state-encryption', statsTable('State encryption (ms per run)', rows));
