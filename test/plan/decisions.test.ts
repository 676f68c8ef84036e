// The decision journal of PkiState: one entry per slot asked for, as the commit carries it out. The dates are
// checked against the certificates themselves (node's X509Certificate).
import { X509Certificate } from 'node:crypto';
import { MemoryStore } from '../../src/state/store';
import { PkiState } from '../../src/state/pki-state';
import { issueCaAndLeaf } from '../support/mini-pki';

const DAY = 86_400;
const T0 = new Date('2026-01-01T00:00:00Z');
const token = () => 'abcdef.0123456789abcdef';

function synth(store: MemoryStore, now: Date, more: (state: PkiState) => void = () => {}) {
  const state = new PkiState({ store, clock: () => now });
  const issued = issueCaAndLeaf(state);
  state.ensureKey('cluster/sa', 'ecdsa-p256');
  state.ensureSecret('cluster/token', { generate: token });
  more(state);
  const decisions = state.decisions();
  state.commit();
  return { state, decisions, ...issued };
}

test('a first synth issues every slot; the next keeps them, with the renewal date of a third of the validity', () => {
  const store = new MemoryStore();
  const first = synth(store, T0);
  expect(first.decisions.map((d) => [d.slot, d.kind, d.action, d.reasons])).toEqual([
    ['cluster/apiserver', 'certificate', 'issue', ['not in the state']],
    ['cluster/ca', 'certificate', 'issue', ['not in the state']],
    ['cluster/sa', 'key', 'issue', ['new key']],
    ['cluster/token', 'token', 'issue', ['new secret']],
  ]);
  const second = synth(store, T0);
  expect(second.decisions.map((d) => d.action)).toEqual(['keep', 'keep', 'keep', 'keep']);
  const leaf = new X509Certificate(second.leaf.certificate.pem);
  const notAfter = new Date(leaf.validTo);
  const validity = notAfter.getTime() - new Date(leaf.validFrom).getTime();
  const apiserver = second.decisions[0];
  expect(apiserver).toMatchObject({ commonName: 'kube-apiserver', notAfter });
  // The window opens a third of the spec's validity (365 days) before notAfter; validFrom is backdated 5 minutes.
  expect(notAfter.getTime() - apiserver.renewAt!.getTime()).toBe(Math.floor((validity - 300_000) / 3000) * 1000);
});

test('inside the window a leaf is renewed with its old expiry as reason; rotations are journaled as rotate', () => {
  const store = new MemoryStore();
  const first = synth(store, T0);
  new PkiState({ store, clock: () => T0 }).requestRotation('cluster/token', { newKey: false });
  new PkiState({ store, clock: () => T0 }).requestRotation('cluster/sa', { newKey: true });
  const later = new Date(T0.getTime() + 250 * DAY * 1000);
  const { decisions } = synth(store, later);
  const oldExpiry = new Date(new X509Certificate(first.leaf.certificate.pem).validTo).toISOString();
  expect(decisions.map((d) => [d.slot, d.action, d.reasons])).toEqual([
    ['cluster/apiserver', 'renew', [`renewal due (expires ${oldExpiry})`]],
    ['cluster/ca', 'keep', []],
    ['cluster/sa', 'rotate', ['key rotation requested']],
    ['cluster/token', 'rotate', ['rotation requested']],
  ]);
});

test('a slot asked for twice in one synth keeps the decision the commit carries out', () => {
  const store = new MemoryStore();
  const { decisions } = synth(store, T0, (state) => issueCaAndLeaf(state));
  expect(decisions.filter((d) => d.slot === 'cluster/ca').map((d) => d.action)).toEqual(['issue']);
});
