// State encryption benchmark: age (X25519 and passphrase) per state file, and whole synths of the reference
// cluster against a plaintext and an age-encrypted state directory. Prints a Markdown table for BENCHMARKS.md.
// Run with `npm run bench`.
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
import { printMachine, repeat, Row, stats, statsTable } from './measure';

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
  for (const [label, store] of [
    ['plaintext', (dir: string) => new DirectoryStore(dir)],
    ['age X25519', (dir: string) => new EncryptedDirectoryStore(dir, keys)],
  ] as const) {
    record(`example app, first synth, ${label} state directory`, repeat(5, (i) => synth(() => store(path.join(scratch, `${label}-${i}`)), i)));
    record(`example app, repeat synth, ${label} state directory`, repeat(5, (i) => synth(() => store(path.join(scratch, `${label}-${i}`)), i)));
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}

printMachine();
console.log(statsTable('State encryption (ms per run)', rows));
