import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { Entropy, seededEntropy, systemEntropy } from '../engine/entropy';
import { StateError } from '../engine/errors';
import { NO_PROGRESS, Progress } from '../progress';
import { KeyAlgorithm } from '../engine/keys';
import { CertificateSpec } from '../engine/spec';
import { Certificate } from '../engine/x509';
import { Credential, CredentialRequest, ensureCertificate, readCertificateRecord, recordedKey, SlotDecision } from './certificates';
import { checkSlot, StateContext } from './context';
import { DocumentCheck, documentNames, putDocument, readDocument } from './documents';
import { ENV_PLAN_FILE } from './environment';
import { bareKeyInventory, ensureBareKey, readKeyFile, requestBareKeyRotation } from './keys';
import { CertificateRecord, certificateRecordName, certificatesOf, isVerifiedRecord, serializeRecord } from './records';
import { ensureRotatingCertificate, ensureRotatingKey, RotatingCredential, RotatingKey, RotationDecision, rotationInventory, RotationInventoryEntry } from './rotation';
import { CaRotation } from './rotation-policy';
import { ensureSecret, requestSecretRotation, secretInventory, SecretInventoryEntry, SecretRequest, StoredSecret, storedSecret } from './secrets';
import { DirectoryStore, MemoryStore, StateStore } from './store';
import { PendingChange, StateTransaction } from './transaction';

export { checkKeyAlgorithm, Credential, CredentialRequest, Issuer, SlotDecision } from './certificates';
export { SecretChange, SecretExpiry, SecretInventoryEntry, SecretRequest, StoredSecret } from './secrets';
export { PendingChange } from './transaction';
export { RotatingCredential, RotatingKey, RotationDecision, RotationInventoryEntry } from './rotation';
export { CaRotation, ROTATION_PHASES, RotationPhase } from './rotation-policy';

/** A private key in the state, by slot and generation: how a node plan names a key without copying it. */
export interface KeyReference {
  /** The state slot. */
  readonly slot: string;
  /** Which key of the slot: `key-<generation>.pem`. */
  readonly generation: number;
}

export interface InventoryEntry {
  readonly slot: string;
  readonly commonName: string;
  readonly isCA: boolean;
  readonly issuer: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly keyGeneration: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly pendingRequest?: 'renewal' | 'key rotation';
}

/** A bare key pair of the state (no certificate), for `cdk8s-pki list`. */
export interface KeyInventoryEntry {
  readonly slot: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly keyGeneration: number;
  readonly createdAt: Date;
  readonly rotationRequested: boolean;
}

/** Where the state is kept, its clock and entropy, and whether it may be written. */
export interface PkiStateOptions {
  /** Where the files are kept: a directory, an age-encrypted directory, or memory. */
  readonly store: StateStore;
  /** @default the system clock */
  readonly clock?: () => Date;
  /** Never write: a synth that needs anything new fails and lists it. For CI. @default false */
  readonly frozen?: boolean;
  /** @default the system CSPRNG */
  readonly entropy?: Entropy;
  /** Told of slow steps, and stopped before commit() writes or prints. @default - nothing shown */
  readonly progress?: Progress;
}

/**
 * The PKI state: every key and certificate a synth has made, so the next synth makes the same output.
 *
 * A facade over the state's parts: `certificates.ts` (slots and their checks; `reissue-policy.ts` decides),
 * `keys.ts`, `secrets.ts`, `documents.ts`, all reading and staging through one `StateTransaction`, which
 * `commit()` writes under the store's lock after checking nobody else changed what was read.
 */
export class PkiState {
  /** A state held in memory: for tests. With `seed`, keys and certificates are the same on every run. */
  static inMemory(options: { clock?: () => Date; seed?: string } = {}): PkiState {
    return new PkiState({ store: new MemoryStore(), clock: options.clock, entropy: options.seed === undefined ? undefined : seededEntropy(options.seed) });
  }

  /** The state as a directory of files (`.pki/` beside the app by default). */
  static inDirectory(directory: string, options: Omit<PkiStateOptions, 'store'> = {}): PkiState {
    return new PkiState({ ...options, store: new DirectoryStore(path.resolve(directory)) });
  }

  /** Where the files are kept. */
  readonly store: StateStore;
  /** Whether the state may not be written (CI's frozen mode). */
  readonly frozen: boolean;
  private readonly clock: () => Date;
  /** The instant of this synth's decisions, read once from the clock; see `startSynth`. */
  private instant?: Date;
  private readonly context: StateContext;
  private readonly credentials = new Map<string, Credential>();
  private readonly committedHooks: (() => void)[] = [];
  private readonly journal = new Map<string, SlotDecision>();
  private readonly rotationJournal = new Map<string, RotationDecision>();

  constructor(options: PkiStateOptions) {
    this.store = options.store;
    this.clock = options.clock ?? (() => new Date());
    this.frozen = options.frozen ?? false;
    const txn = new StateTransaction(this.store);
    this.context = { txn, entropy: options.entropy ?? systemEntropy, progress: options.progress ?? NO_PROGRESS, now: () => (this.instant ??= this.clock()) };
  }

  /** The state's clock: the time expiries are judged at by what reads the state (export-node, reports). */
  now(): Date {
    return this.clock();
  }

  /**
   * Starts a synth (an app binding this state): what it issues, renews and records is decided at one instant,
   * read from the clock at its first decision, so that a child CA as long-lived as its issuer ends with it
   * instead of a second after it (which the issuer check refuses). A commit ends the synth too.
   * @internal
   */
  startSynth(): void {
    this.instant = undefined;
  }

  /** Announces `units` more slow steps (certificates to issue, keys to draw), for the progress bar's total. */
  expectWork(units: number): void {
    this.context.progress.expect(units);
  }

  /** Announces up to `count` new keys of `algorithm`, which the entropy source may make ahead (RSA, on a second core). */
  expectKeys(algorithm: KeyAlgorithm, count: number): void {
    this.context.entropy.expectKeys?.(algorithm, count);
  }

  /**
   * The credential for `request`, from the state when it still matches, else newly issued and staged.
   * Asking twice for one slot in one synth returns the same credential.
   */
  ensure(request: CredentialRequest): Credential {
    const { credential, decision } = this.atomically(() => ensureCertificate(this.context, request, this.credentials.get(request.slot)));
    this.credentials.set(request.slot, credential);
    this.decided(decision);
    return credential;
  }

  /**
   * The CA of `request` in the rotation phase `rotation` declares (see rotation-policy.ts): the signing
   * credential and every CA certificate verifiers trust, the signing one first. A transition the policy refuses
   * is a SpecError at `rotation.phase`, naming the phase the state is in.
   */
  ensureRotatingCertificate(request: CredentialRequest, rotation: CaRotation | undefined): RotatingCredential {
    const result = this.atomically(() => ensureRotatingCertificate(this.context, request, rotation, this.credentials.get(request.slot)));
    this.credentials.set(request.slot, result.rotating.signer);
    result.decisions.forEach((d) => this.decided(d));
    if (result.rotation) this.rotationJournal.set(request.slot, result.rotation);
    return result.rotating;
  }

  /** The bare key pair of `slot` in the rotation phase `rotation` declares: the signing key and every verifying public key. */
  ensureRotatingKey(slot: string, keyAlgorithm: KeyAlgorithm, rotation: CaRotation | undefined): RotatingKey {
    const result = this.atomically(() => ensureRotatingKey(this.context, slot, keyAlgorithm, rotation));
    result.decisions.forEach((d) => this.decided(d));
    if (result.rotation) this.rotationJournal.set(slot, result.rotation);
    return result.rotating;
  }

  /** The rotation of every rotating slot this synth asked for (a transition, or `keep`), by slot. */
  rotations(): RotationDecision[] {
    return [...this.rotationJournal.values()].sort((a, b) => (a.slot < b.slot ? -1 : a.slot > b.slot ? 1 : 0));
  }

  /**
   * A bare key pair with no certificate (the service-account signing key, a CSR's key), recorded in
   * `<slot>/key.json`. Generated once; a different algorithm is refused, because replacing the key
   * invalidates everything it signed.
   */
  ensureKey(
    slot: string,
    keyAlgorithm: KeyAlgorithm,
  ): {
    /** The key. */
    privateKey: crypto.KeyObject;
    /** Its generation in the slot. */
    generation: number;
  } {
    const { key, decision } = this.atomically(() => ensureBareKey(this.context, slot, keyAlgorithm));
    this.decided(decision);
    return key;
  }

  /**
   * The secret of `slot`: `given` when the user supplies it, else the stored one, else a new one from
   * `generate` (fed by the state's entropy); renewed with a new value once inside the window of `expiry`.
   */
  ensureSecret(slot: string, options: SecretRequest): StoredSecret {
    const secret = this.atomically(() => ensureSecret(this.context, slot, options));
    this.decided({ slot, kind: 'token', action: secret.change?.action ?? 'keep', reasons: secret.change?.reasons ?? [] });
    return secret;
  }

  /**
   * What this synth decided for every slot it asked for (certificates, bare keys, tokens), by slot: the
   * decisions `commit()` carries out, for `cdk8s-pki plan` and the synth summary.
   */
  decisions(): SlotDecision[] {
    return [...this.journal.values()].sort((a, b) => (a.slot < b.slot ? -1 : a.slot > b.slot ? 1 : 0));
  }

  /** A slot asked for again in one synth is kept after its first, acting, decision: the one commit carries out. */
  private decided(decision: SlotDecision): void {
    const previous = this.journal.get(decision.slot);
    if (!previous || previous.action === 'keep') this.journal.set(decision.slot, decision);
  }

  /** The stored secret of `slot`, for commands that print or export it; a missing one is a StateError. */
  secret(slot: string): string {
    return storedSecret(this.context, slot);
  }

  /** A stored key, for exporting it; a missing one is a StateError (synth first). */
  privateKey(slot: string, generation: number): crypto.KeyObject {
    checkSlot(slot);
    // The key of a certificate is checked to be the certified one (by digest), as synth checks it before using it.
    const record = readCertificateRecord(this.context, slot);
    if (record?.keyGeneration === generation && record.keySha256 !== undefined) return recordedKey(this.context, slot, record, this.store.locate(certificateRecordName(slot))).privateKey;
    return readKeyFile(this.context, slot, generation, 'a plan of this state').privateKey;
  }

  /**
   * A small JSON document kept beside the keys (a node's file plan); staged only when its content changes.
   * With `check` (the one `readDocument` is given), a document that would not read back is never staged.
   */
  putDocument<T>(name: string, document: T, check?: DocumentCheck<T>): void {
    putDocument(this.context, name, document, check);
  }

  /** The document `name`, checked by `check` when given (its failure is a StateError naming the file). */
  readDocument<T>(name: string, check?: DocumentCheck<T>): T | undefined {
    return readDocument(this.context, name, check);
  }

  /** Names of the documents under `prefix/`. */
  documentNames(prefix: string): string[] {
    return documentNames(this.context, prefix);
  }

  /** What `commit()` would write, by slot, with the reasons (field by field for a changed spec). */
  pendingChanges(): PendingChange[] {
    return this.context.txn.pendingChanges();
  }

  /**
   * Runs `hook` after each successful `commit()` (also one with nothing to write), never after a failed or
   * frozen-refused one: for files a construct writes beside the manifests, which must not describe material
   * the state does not hold.
   */
  onCommitted(hook: () => void): void {
    this.committedHooks.push(hook);
  }

  /**
   * Writes what this synth staged, then runs the `onCommitted` hooks. Frozen: throws, listing each slot and
   * what changed in it. A crash part-way leaves whole files and a journal from which the next synth adopts
   * a key written without its record.
   */
  commit(): void {
    this.context.progress.stop();
    this.context.entropy.settle?.();
    // The app's root validation reports a plan instead of committing; only an app committing by hand gets here.
    if (process.env[ENV_PLAN_FILE]) throw new StateError(`${ENV_PLAN_FILE} is set (cdk8s-pki plan), and a plan writes nothing, but this app commits the PKI state itself; plan needs an app that calls app.synth()`);
    if (this.frozen && !this.context.txn.isEmpty) throw frozenRefusal(this.store.location, this.pendingChanges());
    if (!this.frozen) this.context.txn.commit();
    this.instant = undefined;
    for (const hook of this.committedHooks) hook();
  }

  /**
   * Marks a slot for renewal (same key) or key rotation at the next synth; a secret slot (a token) for a new
   * value; a bare key for a new generation (`newKey` required). Writes at once, so it is refused when frozen.
   */
  requestRotation(slot: string, options: { newKey: boolean }): 'renewal' | 'key rotation' | 'new secret' {
    checkSlot(slot);
    if (this.frozen) throw new StateError(`the PKI state (${this.store.location}) is frozen (CDK8S_PKI_FROZEN), and rotate writes it; unset CDK8S_PKI_FROZEN to request a rotation`);
    const requested = this.atomically(() => this.stageRotation(slot, options.newKey));
    this.context.txn.commit();
    this.instant = undefined;
    return requested;
  }

  private stageRotation(slot: string, newKey: boolean): 'renewal' | 'key rotation' | 'new secret' {
    const record = readCertificateRecord(this.context, slot);
    if (record) {
      // A CA's new key replaced it in every bundle in one merge; the phases keep the old one trusted meanwhile.
      if (newKey && certificatesOf(record).certificate.isCA) {
        throw new StateError(`"${slot}" is a CA, and a new CA key is rolled out in phases: declare \`rotation: { id, phase: 'trust-both' }\` on the ClusterCA (\`caRotation\` in a ControlPlanePki cluster spec); \`rotate ${slot}\` without --new-key re-issues it with the same key`);
      }
      this.stageCertificateRequest(slot, record, newKey);
      return newKey ? 'key rotation' : 'renewal';
    }
    if (requestSecretRotation(this.context, slot)) return 'new secret';
    if (this.context.txn.read(`${slot}/key.json`)) {
      if (!newKey) throw new StateError(`"${slot}" is a bare key, with no certificate to renew; rotate it with --new-key`);
      requestBareKeyRotation(this.context, slot);
      return 'key rotation';
    }
    throw new StateError(`no certificate, key or secret "${slot}" in the ${this.store.location}; \`cdk8s-pki list\` shows the slots`);
  }

  /**
   * Marks leaf certificates for renewal (with `newKey`, key rotation) at the next synth: `all` is every
   * certificate that is not a CA. Every slot is checked before anything is staged; a CA, a bare key, a token
   * or an unknown slot is refused naming the command that fits. Writes at once, so it is refused when frozen.
   */
  requestRenewal(slots: string[] | 'all', options: { newKey: boolean }): string[] {
    if (this.frozen) throw new StateError(`the PKI state (${this.store.location}) is frozen (CDK8S_PKI_FROZEN), and renew writes it; unset CDK8S_PKI_FROZEN to request a renewal`);
    const wanted = slots === 'all' ? this.inventory().filter((e) => !e.isCA).map((e) => e.slot) : [...new Set(slots)];
    const records = wanted.map((slot) => {
      checkSlot(slot);
      const record = readCertificateRecord(this.context, slot);
      if (!record) {
        const other = this.context.txn.read(`${slot}/key.json`) ? 'a bare key' : this.context.txn.read(`${slot}/secret.json`) ? 'a token' : undefined;
        if (other) throw new StateError(`"${slot}" is ${other}, with no certificate to renew; give it a new value with \`cdk8s-pki rotate ${slot}${other === 'a bare key' ? ' --new-key' : ''}\``);
        throw new StateError(`no certificate "${slot}" in the ${this.store.location}; \`cdk8s-pki list\` shows the slots`);
      }
      if (certificatesOf(record).certificate.isCA) {
        throw new StateError(`"${slot}" is a CA, and renew re-issues leaves only; re-issue the CA with \`cdk8s-pki rotate ${slot}\` (a new CA key comes through the phases of a rotation: \`rotation\` / \`caRotation\`)`);
      }
      return { slot, record };
    });
    this.atomically(() => records.forEach(({ slot, record }) => this.stageCertificateRequest(slot, record, options.newKey)));
    this.context.txn.commit();
    return wanted;
  }

  private stageCertificateRequest(slot: string, record: CertificateRecord, newKey: boolean): void {
    const updated = { ...record, ...(newKey ? { keyRotationRequested: true } : { renewalRequested: true }) };
    const name = certificateRecordName(slot);
    this.context.txn.stage(slot, name, serializeRecord('certificate', updated, this.store.locate(name)), false, [newKey ? 'key rotation requested' : 'renewal requested']);
  }

  /** Every secret string (bootstrap token) in the state, without its value, for `cdk8s-pki list`. */
  secretInventory(): SecretInventoryEntry[] {
    return secretInventory(this.context);
  }

  /** Every slot that rotated or is rotating: its phase, the standby CA (or key) and the archived ones, for `cdk8s-pki list`. */
  rotationInventory(): RotationInventoryEntry[] {
    return rotationInventory(this.context);
  }

  /** Every bare key in the state (the service-account key, CSR keys), for `cdk8s-pki list`. */
  keyInventory(): KeyInventoryEntry[] {
    return bareKeyInventory(this.context);
  }

  /** Every certificate in the state, for `cdk8s-pki list`; a corrupt record stops it with the file named. */
  inventory(): InventoryEntry[] {
    // By issuer certificate: the CN of a CA that signed thousands of leaves is read once.
    const issuerNames = new Map<string, string>();
    return this.context.txn
      .names()
      .filter((name) => name.endsWith('/certificate.json'))
      .map((name) => {
        const slot = name.slice(0, -'/certificate.json'.length);
        const record = readCertificateRecord(this.context, slot)!;
        const pendingRequest = record.keyRotationRequested ? 'key rotation' : record.renewalRequested ? 'renewal' : undefined;
        const spec = record.spec as CertificateSpec | undefined;
        // A verified record says what the certificate holds; only its issuer (shared by many) is parsed.
        if (isVerifiedRecord(record) && spec && record.description?.['not-before']) {
          const commonName = spec.subject.commonName;
          const { keyAlgorithm, keyGeneration } = record;
          const issuerPem = record.chain[0];
          const issuer = issuerPem === undefined ? commonName : (issuerNames.get(issuerPem) ?? issuerNames.set(issuerPem, Certificate.fromTrustedPem(issuerPem).subject.commonName).get(issuerPem)!);
          return { slot, commonName, isCA: spec.ca !== undefined, issuer, keyAlgorithm, keyGeneration, notBefore: new Date(record.description['not-before']), notAfter: new Date(record.notAfter!), pendingRequest };
        }
        const { certificate } = certificatesOf(record);
        return {
          slot,
          commonName: certificate.subject.commonName,
          isCA: certificate.isCA,
          issuer: certificate.issuer.commonName,
          keyAlgorithm: record.keyAlgorithm,
          keyGeneration: record.keyGeneration,
          notBefore: certificate.notBefore,
          notAfter: certificate.notAfter,
          pendingRequest,
        };
      });
  }

  /** A request that fails half-way (say, validity beyond its issuer) must not leave what it drew staged. */
  private atomically<T>(fn: () => T): T {
    const savepoint = this.context.txn.savepoint();
    try {
      return fn();
    } catch (err) {
      this.context.txn.rollback(savepoint);
      throw err;
    }
  }
}

/** A change that only renews: every reason is a renewal window that opened, or the new key it brings. */
const isRenewal = (change: PendingChange) => change.reasons.every((r) => r.startsWith('renewal due (') || /^new key \(generation \d+\)$/.test(r));
/** A plan document (node files, a Secret's data) rewritten because what it names changed. */
const isPlanChange = (change: PendingChange) => change.reasons.length === 1 && change.reasons[0] === 'plan changed';

/**
 * The frozen-mode failure: each slot and why, then the command to run. When time alone made changes due
 * (renewals, and the plans that follow them), the first line says so, so that a CI log reads as "renew" rather
 * than as a broken change.
 */
function frozenRefusal(location: string, changes: PendingChange[]): StateError {
  const material = changes.filter((c) => !isPlanChange(c));
  const renewalsOnly = material.length > 0 && material.every(isRenewal);
  return new StateError(
    [
      renewalsOnly
        ? `the PKI state (${location}) is frozen, and renewals came due: each certificate and token change below is a renewal inside its window (plans follow)`
        : `the PKI state (${location}) is frozen, but this synth needs to change it:`,
      ...changes.map((c) => `  - ${c.slot}: ${c.reasons.join('; ')}`),
      `Run \`cdk8s synth\` without CDK8S_PKI_FROZEN (it ${renewalsOnly ? 'renews what is due' : 'makes these changes'}), commit the state with dist/, and re-run CI.`,
    ].join('\n'),
  );
}
