// Runs the miniature synth of the state tests against a directory and SIGKILLs itself part-way, the way a CI
// runner or an OOM killer would stop `cdk8s synth`:
//   after <n>      before the state write n+1 starts (n whole writes on disk)
//   during <n>     inside state write n+1, once its temp file is written and fsynced, before it is renamed
//   gitignore 0    while the new state directory's .gitignore is being written
//   none 0         not at all: a whole synth, for races between synths
// Usage: node killed-synth.js <state-dir> <mode> <n>
import type * as FsModule from 'node:fs';
import { CredentialRequest, PkiState } from '../../src/state/pki-state';
import { DyingStore, fs, kill } from './dying-store';
import { publicKeyToPem } from '../../src/engine/keys';

const [directory, mode, count] = process.argv.slice(2);
if (mode === 'gitignore') {
  const rename = fs.renameSync;
  fs.renameSync = (from: FsModule.PathLike, to: FsModule.PathLike) => (String(to).endsWith('/.gitignore') ? kill() : rename(from, to));
}

const state = new PkiState({ store: new DyingStore(directory, mode, Number(count)) });
const DAY = 86400;
const ca = state.ensure({ slot: 'cluster/ca', keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 3650 * DAY } });
const leaf: CredentialRequest = {
  slot: 'cluster/apiserver',
  keyAlgorithm: 'ecdsa-p256',
  spec: { subject: { commonName: 'kube-apiserver' }, sans: { ipAddresses: ['10.0.0.11'] }, extendedKeyUsage: ['serverAuth'], validitySeconds: 365 * DAY },
  issuer: { certificate: ca.certificate, privateKey: ca.privateKey, chain: [] },
};
state.ensure(leaf);
// Tell the parent which CA key this synth meant to write, then commit (and die part-way).
process.stdout.write(publicKeyToPem(ca.privateKey));
state.commit();
