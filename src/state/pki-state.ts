import * as crypto from 'node:crypto';
import * as path from 'node:path';
import stableStringify from 'fast-json-stable-stringify';
import { Entropy, seededEntropy, systemEntropy } from '../engine/entropy';
import { SpecError, StateError } from '../engine/errors';
import { isKeyAlgorithm, KEY_ALGORITHMS, KeyAlgorithm, keyAlgorithmOf, privateKeyToPem } from '../engine/keys';
import { sha256Hex } from '../engine/pem';
import { CertificateSpec, checkSchema, compileSchema, validateCertificateSpec } from '../engine/spec';
import { Certificate, issueCertificate } from '../engine/x509';
import recordSchema from './schemas/certificate-record.schema.json';
import { DirectoryStore, MemoryStore, StateStore } from './store';

/** A CA that can sign: its certificate, its key (absent while the key is offline) and the certificates above it. */
export interface Issuer {
  readonly certificate: Certificate;
  readonly privateKey?: crypto.KeyObject;
  /** The issuer's own issuers, up to the root; empty for a root. */
  readonly chain: Certificate[];
}

/** What a construct asks the state for: a key and a certificate that match this request. */
export interface CredentialRequest {
  /** Where the credential lives in the state, e.g. `cluster/kubernetes-ca` (letters, digits, `-_.`, `/`). */
  readonly slot: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly spec: CertificateSpec;
  /** Absent: self-signed. */
  readonly issuer?: Issuer;
  /** Re-issue once less than this remains. @default a third of the validity (cert-manager's default) */
  readonly renewBeforeSeconds?: number;
  /** `keep`: a re-issued certificate keeps its key; `rotate`: every re-issue gets a new key (cert-manager's rotationPolicy: Always). @default keep */
  readonly keyPolicy?: 'keep' | 'rotate';
}

export interface Credential {
  readonly slot: string;
  readonly privateKey: crypto.KeyObject;
  readonly keyGeneration: number;
  readonly certificate: Certificate;
  /** The issuer and its issuers up to the root, as at issuance; empty when self-signed. */
  readonly chain: Certificate[];
}

/** Something a synth would write to the state. */
/** A private key in the state, by slot and generation: how a node plan names a key without copying it. */
export interface KeyReference {
  readonly slot: string;
  readonly generation: number;
}

export interface PendingChange {
  readonly slot: string;
  readonly reasons: string[];
}

interface CertificateRecord {
  version: 1;
  keyAlgorithm: KeyAlgorithm;
  keyGeneration: number;
  specHash: string;
  certificate: string;
  chain: string[];
  issuedAt: string;
  reasons: string[];
  seeded?: boolean;
  renewalRequested?: boolean;
  keyRotationRequested?: boolean;
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

export interface PkiStateOptions {
  readonly store: StateStore;
  /** @default the system clock */
  readonly clock?: () => Date;
  /** Never write: a synth that needs anything new fails and lists it. For CI. @default false */
  readonly frozen?: boolean;
  /** @default the system CSPRNG */
  readonly entropy?: Entropy;
}

const validateRecord = compileSchema(recordSchema);
const SLOT = /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*)*$/;
const recordName = (slot: string) => `${slot}/certificate.json`;
const keyName = (slot: string, generation: number) => `${slot}/key-${generation}.pem`;
const documentName = (name: string) => `${name}.doc.json`;

function checkSlot(slot: string): void {
  if (!SLOT.test(slot)) throw new SpecError('slot', `"${slot}" is not a valid state slot (letters, digits, "-_." and "/")`);
}

/** Refused before any key is drawn: a bad value would otherwise surface as a TypeError deep in key generation. */
export function checkKeyAlgorithm(keyAlgorithm: string): asserts keyAlgorithm is KeyAlgorithm {
  if (!isKeyAlgorithm(keyAlgorithm)) throw new SpecError('keyAlgorithm', `must be one of ${KEY_ALGORITHMS.join(', ')} (got ${JSON.stringify(keyAlgorithm)})`);
}
const secretName = (slot: string) => `${slot}/secret.json`;

/** A secret string kept in the state (a bootstrap token): made once, changed only on request. */
export interface StoredSecret {
  readonly value: string;
  readonly generation: number;
  /** When this generation was made (or first given): a TTL counts from here, so synths do not move it. */
  readonly createdAt: Date;
}

interface SecretRecord {
  version: 1;
  value: string;
  generation: number;
  createdAt: string;
  given: boolean;
  seeded?: boolean;
  rotationRequested?: boolean;
}

/**
 * The PKI state: every key and certificate a synth has made, so the next synth makes the same output.
 *
 * Material changes only when its spec changes, its renewal window opens, or a rotation was asked for.
 * Reads go to the store; writes are staged and land together in `commit()` under the store's lock (keys
 * first, each key file written once and never replaced), after checking nobody else changed what was read.
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

  readonly store: StateStore;
  readonly frozen: boolean;
  private readonly clock: () => Date;
  private readonly entropy: Entropy;
  private readonly staged = new Map<string, { data: Buffer; exclusive: boolean }>();
  private readonly changes = new Map<string, string[]>();
  /** What each entry held when first read (undefined: absent), to detect a concurrent synth at commit. */
  private readonly observed = new Map<string, string | undefined>();
  private readonly credentials = new Map<string, Credential>();

  constructor(options: PkiStateOptions) {
    this.store = options.store;
    this.clock = options.clock ?? (() => new Date());
    this.frozen = options.frozen ?? false;
    this.entropy = options.entropy ?? systemEntropy;
  }

  now(): Date {
    return this.clock();
  }

  /**
   * The credential for `request`, from the state when it still matches, else newly issued and staged.
   * Asking twice for one slot in one synth returns the same credential.
   */
  ensure(request: CredentialRequest): Credential {
    // A request that fails (say, validity beyond its issuer) must not leave the key it drew staged for commit.
    const staged = new Map(this.staged);
    const changes = new Map(this.changes);
    try {
      return this.ensureStaged(request);
    } catch (err) {
      this.restore(this.staged, staged);
      this.restore(this.changes, changes);
      throw err;
    }
  }

  private restore<V>(target: Map<string, V>, saved: Map<string, V>): void {
    target.clear();
    for (const [name, value] of saved) target.set(name, value);
  }

  private ensureStaged(request: CredentialRequest): Credential {
    checkSlot(request.slot);
    checkKeyAlgorithm(request.keyAlgorithm);
    const spec = validateCertificateSpec(request.spec);
    const record = this.readRecord(request.slot);
    const specHash = sha256Hex(
      stableStringify({ spec, keyAlgorithm: request.keyAlgorithm, issuer: request.issuer?.certificate.fingerprintSha256 ?? 'self' }),
    );
    const reasons = this.reissueReasons(request, record, specHash);
    const rotateKey =
      !record ||
      record.keyRotationRequested === true ||
      record.keyAlgorithm !== request.keyAlgorithm ||
      (reasons.length > 0 && request.keyPolicy === 'rotate');
    if (record && rotateKey && spec.ca && !record.keyRotationRequested) {
      // A CA's key is its identity: replacing it unasked would orphan every certificate and kubeconfig it signed.
      throw new SpecError(
        'keyAlgorithm',
        `changing the key of CA "${spec.subject.commonName}" (${record.keyAlgorithm} → ${request.keyAlgorithm}) replaces the CA; ask for it with \`cdk8s-pki rotate ${request.slot} --new-key\``,
      );
    }
    const previous = this.credentials.get(request.slot);
    if (previous && reasons.length === 0) return previous;

    const key = rotateKey ? this.newKey(request.slot, request.keyAlgorithm, record) : this.readKey(request.slot, record!.keyGeneration, request.keyAlgorithm);
    if (reasons.length === 0 && !rotateKey) {
      const credential = this.credentialOf(request.slot, record!, key.privateKey);
      this.credentials.set(request.slot, credential);
      return credential;
    }
    if (rotateKey && record) reasons.push(`new key (generation ${key.generation})`);

    const signer = request.issuer ? { certificate: request.issuer.certificate, privateKey: request.issuer.privateKey } : { privateKey: key.privateKey };
    if (!signer.privateKey) {
      throw new SpecError(
        'issuer.privateKey',
        `"${spec.subject.commonName}" must be issued (${reasons.join('; ')}), which needs the private key of its issuer "${request.issuer!.certificate.subject.commonName}"; supply it for this synth`,
      );
    }
    const now = this.now();
    const certificate = issueCertificate(spec, key.privateKey, { certificate: signer.certificate, privateKey: signer.privateKey }, now, {
      serial: this.entropy.serial(`${request.slot}:${specHash}:${now.toISOString()}:${key.generation}`),
      deterministicSignature: this.entropy.deterministicSignatures,
    });
    const chain = request.issuer ? [request.issuer.certificate, ...request.issuer.chain] : [];
    const newRecord: CertificateRecord = {
      version: 1,
      keyAlgorithm: request.keyAlgorithm,
      keyGeneration: key.generation,
      specHash,
      certificate: certificate.pem,
      chain: chain.map((c) => c.pem),
      issuedAt: now.toISOString(),
      reasons,
      ...(this.entropy.seeded ? { seeded: true } : {}),
    };
    this.stage(request.slot, recordName(request.slot), Buffer.from(`${JSON.stringify(newRecord, null, 2)}\n`), false, reasons);
    const credential = { slot: request.slot, privateKey: key.privateKey, keyGeneration: key.generation, certificate, chain };
    this.credentials.set(request.slot, credential);
    return credential;
  }

  /**
   * A bare key pair with no certificate (the service-account signing key). Generated once; a different
   * algorithm is refused, because replacing the key invalidates everything it signed.
   */
  ensureKey(slot: string, keyAlgorithm: KeyAlgorithm): { privateKey: crypto.KeyObject; generation: number } {
    checkSlot(slot);
    checkKeyAlgorithm(keyAlgorithm);
    const generations = this.keyGenerations(slot);
    if (generations.length === 0) return this.newKey(slot, keyAlgorithm, undefined);
    const key = this.readKey(slot, generations[generations.length - 1]);
    const stored = keyAlgorithmOf(key.privateKey);
    if (stored !== keyAlgorithm) {
      throw new SpecError('keyAlgorithm', `the key in ${this.store.locate(slot)} is ${stored}; replacing it with ${keyAlgorithm} would invalidate everything it signed, so it is kept: set keyAlgorithm to ${stored}`);
    }
    return key;
  }

  /**
   * The secret of `slot`: `given` when the user supplies it, else the stored one, else a new one from
   * `generate` (fed by the state's entropy). A new value is made only when none is stored, the given one
   * changed, or a rotation was requested.
   */
  ensureSecret(slot: string, options: { given?: string; generate: (randomBytes: (count: number) => Buffer) => string }): StoredSecret {
    checkSlot(slot);
    const record = this.readSecretRecord(slot);
    const keep = record && !record.rotationRequested && (options.given === undefined ? true : record.given && record.value === options.given);
    if (record && keep) return { value: record.value, generation: record.generation, createdAt: new Date(record.createdAt) };
    const generation = (record?.generation ?? 0) + 1;
    let draw = 0;
    const value = options.given ?? options.generate((count) => this.entropy.bytes(`${slot}#${generation}.${draw++}`, count));
    const createdAt = this.now();
    const updated: SecretRecord = { version: 1, value, generation, createdAt: createdAt.toISOString(), given: options.given !== undefined, ...(this.entropy.seeded ? { seeded: true } : {}) };
    const reason = !record ? 'new secret' : record.rotationRequested ? 'rotation requested' : 'given value changed';
    this.stage(slot, secretName(slot), Buffer.from(`${JSON.stringify(updated, null, 2)}\n`), false, [reason]);
    return { value, generation, createdAt };
  }

  /** The stored secret of `slot`, for commands that print or export it; a missing one is a StateError. */
  secret(slot: string): string {
    const record = this.readSecretRecord(slot);
    if (!record) throw new StateError(`no secret "${slot}" in the ${this.store.location}; run \`cdk8s synth\` first`);
    return record.value;
  }

  /** A stored key, for exporting it; a missing one is a StateError (synth first). */
  privateKey(slot: string, generation: number): crypto.KeyObject {
    return this.readKey(slot, generation).privateKey;
  }

  /** A small JSON document kept beside the keys (a node's file plan); staged only when its content changes. */
  putDocument(name: string, document: unknown): void {
    if (!SLOT.test(name)) throw new SpecError('name', `"${name}" is not a valid state name`);
    const data = Buffer.from(`${stableStringify(document)}\n`);
    const current = this.read(documentName(name));
    if (!current?.equals(data)) this.stage(name, documentName(name), data, false, [current ? 'plan changed' : 'new plan']);
  }

  readDocument<T>(name: string): T | undefined {
    const data = this.read(documentName(name));
    return data && (JSON.parse(data.toString('utf8')) as T);
  }

  /** Names of the documents under `prefix/`. */
  documentNames(prefix: string): string[] {
    const names = new Set([...this.store.list(), ...this.staged.keys()]);
    return [...names]
      .filter((n) => n.startsWith(`${prefix}/`) && n.endsWith('.doc.json'))
      .map((n) => n.slice(0, -'.doc.json'.length))
      .sort();
  }

  /** Why the recorded certificate cannot be used for `request` (empty: it can). */
  private reissueReasons(request: CredentialRequest, record: CertificateRecord | undefined, specHash: string): string[] {
    if (!record) return ['not in the state'];
    const reasons: string[] = [];
    if (record.specHash !== specHash) reasons.push('spec changed');
    if (record.renewalRequested) reasons.push('renewal requested');
    if (record.keyRotationRequested) reasons.push('key rotation requested');
    const certificate = Certificate.fromPem(record.certificate);
    const renewBefore = (request.renewBeforeSeconds ?? Math.floor(request.spec.validitySeconds / 3)) * 1000;
    if (this.now().getTime() >= certificate.notAfter.getTime() - renewBefore) {
      reasons.push(`renewal due (expires ${certificate.notAfter.toISOString()})`);
    }
    return reasons;
  }

  private credentialOf(slot: string, record: CertificateRecord, privateKey: crypto.KeyObject): Credential {
    return {
      slot,
      privateKey,
      keyGeneration: record.keyGeneration,
      certificate: Certificate.fromPem(record.certificate),
      chain: record.chain.map((pem) => Certificate.fromPem(pem)),
    };
  }

  private newKey(slot: string, algorithm: KeyAlgorithm, record: CertificateRecord | undefined): { privateKey: crypto.KeyObject; generation: number } {
    const generations = this.keyGenerations(slot);
    const latest = generations.length ? generations[generations.length - 1] : 0;
    // A key written by a synth that died before writing its certificate record: adopt it rather than orphan it.
    if (latest > (record?.keyGeneration ?? 0) && !record?.keyRotationRequested) {
      const orphan = this.readKey(slot, latest);
      if (keyAlgorithmOf(orphan.privateKey) === algorithm) return orphan;
    }
    const generation = latest + 1;
    const privateKey = this.entropy.key(`${slot}#${generation}`, algorithm);
    this.stage(slot, keyName(slot, generation), Buffer.from(privateKeyToPem(privateKey)), true, [`new ${algorithm} key`]);
    return { privateKey, generation };
  }

  private readKey(slot: string, generation: number, expected?: KeyAlgorithm): { privateKey: crypto.KeyObject; generation: number } {
    const name = keyName(slot, generation);
    const data = this.read(name);
    if (!data) throw new StateError(`${this.store.locate(name)} is missing but ${this.store.locate(recordName(slot))} refers to it; restore it from a backup (a new key would silently replace the old one)`);
    let privateKey: crypto.KeyObject;
    try {
      privateKey = crypto.createPrivateKey(data);
    } catch (err) {
      throw new StateError(`${this.store.locate(name)} is not a readable private key (${(err as Error).message}); restore it from a backup`);
    }
    if (expected && keyAlgorithmOf(privateKey) !== expected) {
      throw new StateError(`${this.store.locate(name)} holds a ${keyAlgorithmOf(privateKey)} key but its record says ${expected}; the state is inconsistent`);
    }
    return { privateKey, generation };
  }

  private keyGenerations(slot: string): number[] {
    const pattern = new RegExp(`^${slot.replace(/[.]/g, '\\.')}/key-(\\d+)\\.pem$`);
    const names = new Set([...this.store.list(), ...this.staged.keys()]);
    return [...names]
      .map((n) => pattern.exec(n)?.[1])
      .filter((g): g is string => g !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  private readRecord(slot: string): CertificateRecord | undefined {
    const name = recordName(slot);
    const data = this.read(name);
    if (!data) return undefined;
    try {
      return checkSchema<CertificateRecord>(validateRecord, JSON.parse(data.toString('utf8')));
    } catch (err) {
      throw new StateError(
        `${this.store.locate(name)} is corrupt (${(err as Error).message}); restore it from a backup or remove the slot deliberately — synth never replaces it on its own`,
      );
    }
  }

  private readSecretRecord(slot: string): SecretRecord | undefined {
    const name = secretName(slot);
    const data = this.read(name);
    if (!data) return undefined;
    try {
      const record = JSON.parse(data.toString('utf8')) as SecretRecord;
      if (record.version !== 1 || typeof record.value !== 'string' || !Number.isInteger(record.generation) || Number.isNaN(Date.parse(record.createdAt))) throw new Error('unexpected fields');
      return record;
    } catch (err) {
      throw new StateError(`${this.store.locate(name)} is corrupt (${(err as Error).message}); restore it from a backup — synth never replaces it on its own`);
    }
  }

  private read(name: string): Buffer | undefined {
    const staged = this.staged.get(name);
    if (staged) return staged.data;
    const data = this.store.read(name);
    if (!this.observed.has(name)) this.observed.set(name, data && sha256Hex(data));
    return data;
  }

  private stage(slot: string, name: string, data: Buffer, exclusive: boolean, reasons: string[]): void {
    this.staged.set(name, { data, exclusive });
    this.changes.set(slot, [...new Set([...(this.changes.get(slot) ?? []), ...reasons])]);
  }

  /** What `commit()` would write, by slot. */
  pendingChanges(): PendingChange[] {
    return [...this.changes.entries()].map(([slot, reasons]) => ({ slot, reasons }));
  }

  /**
   * Writes what this synth staged. Frozen: throws, listing what would change. Keys go first so a record never
   * names a key that is not on disk; a crash in between leaves an unreferenced key that the next synth adopts.
   */
  commit(): void {
    if (this.staged.size === 0) return;
    if (this.frozen) {
      const lines = this.pendingChanges().map((c) => `  - ${c.slot}: ${c.reasons.join('; ')}`);
      throw new StateError(
        `the PKI state (${this.store.location}) is frozen, but this synth needs to change it:\n${lines.join('\n')}\n` +
          'Run synth without CDK8S_PKI_FROZEN, commit the state change with dist/, and run CI again.',
      );
    }
    this.store.withLock(() => {
      for (const [name, hash] of this.observed) {
        const data = this.store.read(name);
        if ((data && sha256Hex(data)) !== hash) {
          throw new StateError(`${this.store.locate(name)} changed while this synth ran (another synth?); nothing was written, run synth again`);
        }
      }
      const ordered = [...this.staged.entries()].sort(([, a], [, b]) => Number(b.exclusive) - Number(a.exclusive));
      for (const [name, { data, exclusive }] of ordered) {
        this.store.write(name, data, exclusive);
        this.observed.set(name, sha256Hex(data));
        this.staged.delete(name);
      }
    });
    this.changes.clear();
  }

  /**
   * Marks a slot for renewal (same key) or key rotation at the next synth; a secret slot (a token) for a new
   * value. Writes at once.
   */
  requestRotation(slot: string, options: { newKey: boolean }): 'renewal' | 'key rotation' | 'new secret' {
    const record = this.readRecord(slot);
    const secret = record ? undefined : this.readSecretRecord(slot);
    if (secret) {
      this.stage(slot, secretName(slot), Buffer.from(`${JSON.stringify({ ...secret, rotationRequested: true }, null, 2)}\n`), false, ['rotation requested']);
      this.commit();
      return 'new secret';
    }
    if (!record) throw new StateError(`no certificate or secret "${slot}" in the ${this.store.location}; \`cdk8s-pki list\` shows the slots`);
    const updated: CertificateRecord = { ...record, ...(options.newKey ? { keyRotationRequested: true } : { renewalRequested: true }) };
    this.stage(slot, recordName(slot), Buffer.from(`${JSON.stringify(updated, null, 2)}\n`), false, [options.newKey ? 'key rotation requested' : 'renewal requested']);
    this.commit();
    return options.newKey ? 'key rotation' : 'renewal';
  }

  /** Every secret string (bootstrap token) in the state, without its value, for `cdk8s-pki list`. */
  secretInventory(): { slot: string; generation: number; createdAt: Date; rotationRequested: boolean }[] {
    return this.store
      .list()
      .filter((name) => name.endsWith('/secret.json'))
      .map((name) => {
        const slot = name.slice(0, -'/secret.json'.length);
        const record = this.readSecretRecord(slot)!;
        return { slot, generation: record.generation, createdAt: new Date(record.createdAt), rotationRequested: record.rotationRequested === true };
      });
  }

  /** Every certificate in the state, for `cdk8s-pki list`. */
  inventory(): InventoryEntry[] {
    return this.store
      .list()
      .filter((name) => name.endsWith('/certificate.json'))
      .map((name) => {
        const slot = name.slice(0, -'/certificate.json'.length);
        const record = this.readRecord(slot)!;
        const certificate = Certificate.fromPem(record.certificate);
        return {
          slot,
          commonName: certificate.subject.commonName,
          isCA: certificate.isCA,
          issuer: certificate.issuer.commonName,
          keyAlgorithm: record.keyAlgorithm,
          keyGeneration: record.keyGeneration,
          notBefore: certificate.notBefore,
          notAfter: certificate.notAfter,
          pendingRequest: record.keyRotationRequested ? 'key rotation' : record.renewalRequested ? 'renewal' : undefined,
        };
      });
  }
}
