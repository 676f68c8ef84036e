// The oracle of the rotation tests: the phase table of a CA rotation, written out here by hand (not read from
// the engine's phaseTrust), and what a phase's files must hold according to it.
import { X509Certificate } from 'node:crypto';
import type { PhaseStep } from './rotation-phases';

/** The old CA (or service-account key) and the new one of a rotation. */
export type Generation = 'old' | 'new';

/** Which CA signs, and which CAs every bundle holds (signing CA first), after each step; the same for sa.key / sa.pub. */
export const PHASE_TABLE = {
  start: { signs: 'old', trusted: ['old'] },
  'trust-both': { signs: 'old', trusted: ['old', 'new'] },
  'issue-from-new': { signs: 'new', trusted: ['new', 'old'] },
  'drop-old': { signs: 'new', trusted: ['new'] },
  'rollback-to-trust-both': { signs: 'old', trusted: ['old', 'new'] },
  'rollback-to-start': { signs: 'old', trusted: ['old'] },
} as const satisfies Record<string, { signs: Generation; trusted: readonly Generation[] }>;

export type TableStep = keyof typeof PHASE_TABLE;

/** The table's verdict: whatever `signedBy` signed in one step is trusted after step `trustedIn`. */
export const tableTrusts = (signedBy: Generation, trustedIn: TableStep): boolean => (PHASE_TABLE[trustedIn].trusted as readonly Generation[]).includes(signedBy);

/**
 * What a TLS client on one step's files (kubectl with a kubeconfig, kube-apiserver as etcd's client) meets at a
 * server on another step's files, by the table, in the words of `kubectlOutcome`; `clientCertificate`: whether the
 * client authenticates with a certificate the server checks.
 */
export function tlsVerdict(client: TableStep, server: TableStep, clientCertificate: boolean): 'ok' | 'the client refuses the server' | 'the server refuses the client' {
  if (!tableTrusts(PHASE_TABLE[server].signs, client)) return 'the client refuses the server';
  if (clientCertificate && !tableTrusts(PHASE_TABLE[client].signs, server)) return 'the server refuses the client';
  return 'ok';
}

/**
 * The old and new CA of one authority in one rotation, from its bundles: the old one is the only certificate of
 * the start bundle, the new one the other certificate of the trust-both bundle.
 */
export function oldAndNew(startBundle: readonly X509Certificate[], trustBothBundle: readonly X509Certificate[]): Record<Generation, X509Certificate> {
  if (startBundle.length !== 1) throw new Error(`the start bundle holds ${startBundle.length} certificates, not 1`);
  const [old] = startBundle;
  const others = trustBothBundle.filter((c) => !c.raw.equals(old.raw));
  if (others.length !== 1) throw new Error(`the trust-both bundle holds ${others.length} certificates besides the old CA, not 1`);
  return { old, new: others[0] };
}

/** The two rotations the trust tests synthesize: all the way forward, and forward then back twice. */
export const RUNS = {
  forward: ['start', 'trust-both', 'issue-from-new', 'drop-old'],
  rollback: ['start', 'trust-both', 'issue-from-new', 'rollback-to-trust-both', 'rollback-to-start'],
} as const satisfies Record<string, readonly PhaseStep[]>;
export type RunName = keyof typeof RUNS;

/** Every step once (the rollback run's first three repeat the forward run's). */
export const OWN_STEPS: [RunName, PhaseStep][] = [
  ...RUNS.forward.map((step) => ['forward', step] as [RunName, PhaseStep]),
  ['rollback', 'rollback-to-trust-both'],
  ['rollback', 'rollback-to-start'],
];

/** The rolling restarts: each pair is a step and the one after it (a node on one step's files, its peer on the next's). */
export const ADJACENT: [RunName, PhaseStep, PhaseStep][] = [
  ['forward', 'start', 'trust-both'],
  ['forward', 'trust-both', 'issue-from-new'],
  ['forward', 'issue-from-new', 'drop-old'],
  ['rollback', 'issue-from-new', 'rollback-to-trust-both'],
  ['rollback', 'rollback-to-trust-both', 'rollback-to-start'],
];
