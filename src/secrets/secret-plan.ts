/**
 * Secrets that hold private material, planned by synth with their data by reference (see planned-content.ts).
 * Under the default policy they are not synthesized; their plans stay in the state, and
 * `cdk8s-pki export-secrets` writes them as manifests for an out-of-band `kubectl apply`.
 */
import { stringify } from 'yaml';
import { certificateAnnotations, holdsCertificate } from '../engine/annotations';
import { SpecError } from '../engine/errors';
import { writeTree } from '../output-tree';
import { schemaCheck } from '../state/documents';
import { PkiState } from '../state/pki-state';
import { PlannedContent, renderContent } from '../content/planned-content';
import plannedContentSchema from '../content/schemas/planned-content.schema.json';
import sealedCacheSchema from './schemas/sealed-cache.schema.json';
import secretPlanSchema from './schemas/secret-plan.schema.json';

export interface PlannedSecret {
  readonly name: string;
  readonly namespace: string;
  /** e.g. kubernetes.io/tls, bootstrap.kubernetes.io/token */
  readonly type: string;
  readonly data: Record<string, PlannedContent>;
}

/** One sealed value: its ciphertext, and the fingerprint of what it was sealed from. */
export interface SealedEntry {
  readonly fingerprint: string;
  readonly ciphertext: string;
}

const OMITTED_PREFIX = 'secrets';
const SEALED_CACHE_PREFIX = 'sealed';
const checkPlannedSecret = schemaCheck<PlannedSecret>(secretPlanSchema, plannedContentSchema);
const checkSealedCache = schemaCheck<Record<string, SealedEntry>>(sealedCacheSchema);

/**
 * Plans and sealed ciphertext are kept per emitting construct (its state slot), not per namespace/name: two
 * constructs may write Secrets of the same name (for two clusters), and a rotated token keeps its slot while
 * its Secret's name changes, so the new plan replaces the old one instead of leaving it to be exported.
 */
export function recordOmittedSecret(state: PkiState, slot: string, secret: PlannedSecret): void {
  state.putDocument(`${OMITTED_PREFIX}/${slot}`, secret, checkPlannedSecret);
}

/** The name of the document holding the sealed values of the Secret emitted at `slot`. */
function sealedCacheName(slot: string): string {
  return `${SEALED_CACHE_PREFIX}/${slot}`;
}

/** The sealed values recorded for the Secret emitted at `slot`, by data key (none when it was never sealed). */
export function readSealedCache(state: PkiState, slot: string): Record<string, SealedEntry> {
  return state.readDocument(sealedCacheName(slot), checkSealedCache) ?? {};
}

/** Stages the sealed values of the Secret emitted at `slot`. */
export function recordSealedCache(state: PkiState, slot: string, entries: Record<string, SealedEntry>): void {
  state.putDocument(sealedCacheName(slot), entries, checkSealedCache);
}

/** The omitted Secrets of the state, in `namespace` when given. */
export function omittedSecrets(state: PkiState, namespace?: string): PlannedSecret[] {
  return state
    .documentNames(OMITTED_PREFIX)
    .map((name) => state.readDocument(name, checkPlannedSecret)!)
    .filter((secret) => namespace === undefined || secret.namespace === namespace);
}

/** The reviewer annotations of the certificates in `secret`'s public (text) data: tls.crt, ca.crt, cacerts.pem … */
export function secretCertificateAnnotations(secret: PlannedSecret): Record<string, string> {
  return certificateAnnotations(Object.entries(secret.data).flatMap(([key, content]) => (content.kind === 'text' && holdsCertificate(content.text) ? [{ name: key, pem: content.text }] : [])));
}

/**
 * The Secret manifest of `secret`, its data rendered from the state (base64, as `data` wants), with the annotations
 * a synthesized one would carry, so that the Secret in the cluster says which certificate it holds.
 */
export function renderSecretManifest(state: PkiState, secret: PlannedSecret): string {
  const data = Object.fromEntries(Object.entries(secret.data).map(([key, content]) => [key, Buffer.from(renderContent(state, content)).toString('base64')]));
  const annotations = secretCertificateAnnotations(secret);
  return stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secret.name, namespace: secret.namespace, ...(Object.keys(annotations).length ? { annotations } : {}) }, type: secret.type, data });
}

/**
 * Writes every omitted Secret (of `namespace`, when given) to `outDir` as `<namespace>.<name>.yaml`, mode 0600,
 * in a directory of mode 0700, as one tree: `outDir` must not exist, be empty, or hold an earlier export, which
 * is replaced whole (the Secret of a rotated token must not stay there for `kubectl apply -f` to re-apply).
 */
export function exportSecrets(state: PkiState, outDir: string, namespace?: string): string[] {
  const secrets = omittedSecrets(state, namespace);
  if (secrets.length === 0) throw new SpecError('--namespace', `the state holds no omitted Secrets${namespace ? ` in namespace ${namespace}` : ''}; run synth first`);
  const files = secrets.map((secret) => ({ path: `${secret.namespace}.${secret.name}.yaml`, mode: 0o600, data: renderSecretManifest(state, secret) }));
  const names = files.map((f) => f.path);
  const twice = names.find((file, i) => names.indexOf(file) !== i);
  if (twice) throw new SpecError('--namespace', `two Secrets of the state would be written as ${twice} (constructs for different clusters?); export one namespace at a time into separate directories`);
  writeTree(outDir, { files, mode: 0o700, replaceable: 'export-secrets' });
  return names;
}
