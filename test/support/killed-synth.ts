// Runs the miniature synth of the state tests against a directory and SIGKILLs itself after N state writes,
// the way a CI runner or an OOM killer would stop `cdk8s synth` half-way through writing the state.
// Usage: node killed-synth.js <state-dir> <writes-before-kill>
import { CredentialRequest, PkiState } from '../../src/state/pki-state';
import { DirectoryStore } from '../../src/state/store';
import { publicKeyToPem } from '../../src/engine/keys';

class DyingStore extends DirectoryStore {
  private writes = 0;
  constructor(directory: string, private readonly killAfter: number) {
    super(directory);
  }
  write(name: string, data: Buffer, exclusive: boolean): void {
    if (this.writes++ === this.killAfter) process.kill(process.pid, 'SIGKILL');
    super.write(name, data, exclusive);
  }
}

const [directory, killAfter] = process.argv.slice(2);
const state = new PkiState({ store: new DyingStore(directory, Number(killAfter)) });
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
