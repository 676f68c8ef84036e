/**
 * Certificate slots: `<slot>/certificate.json` beside the slot's key files. Reading a slot checks its
 * material (the key is the certified one, the signature verifies), asks the reissue policy what to do, and
 * stages a new certificate (and key) when the policy says so.
 */
import * as crypto from 'node:crypto';
import { describeCertificate } from '../engine/annotations';
import { SpecError, StateError } from '../engine/errors';
import { isKeyAlgorithm, KEY_ALGORITHMS, KeyAlgorithm, keyAlgorithmOf } from '../engine/keys';
import { sha256Hex } from '../engine/pem';
import { CertificateSpec, validateCertificateSpec } from '../engine/spec';
import { Certificate, issueCertificate } from '../engine/x509';
import { checkSlot, StateContext } from './context';
import { drawKey, keyGenerations, readKeyFile, StoredKey, unrecordedKey } from './keys';
import { CertificateRecord, certificateRecordName, certificatesOf, isVerifiedRecord, keyFileName, materialDigest, parseRecord, recordNotAfter, serializeRecord } from './records';
import { decideReissue, describeReason, ReissueRequest, specHashOf } from './reissue-policy';

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

/**
 * What synth did with one slot, as `cdk8s-pki plan` and the synth summary show it: `reasons` are the policy's
 * lines (`SANs +10.0.0.5`, `renewal due (expires …)`); `renewAt` is when a kept certificate enters its window.
 */
export interface SlotDecision {
  /** The state slot. */
  readonly slot: string;
  /** What the slot holds. */
  readonly kind: 'certificate' | 'key' | 'token';
  /** What synth does with it. */
  readonly action: 'keep' | 'issue' | 'reissue' | 'renew' | 'rotate';
  /** Why, field by field; empty for `keep`. */
  readonly reasons: string[];
  /** When a kept certificate enters its renewal window. */
  readonly renewAt?: Date;
  /** The certificate's (new) expiry. */
  readonly notAfter?: Date;
  /** The certificate's CN, for the reports. */
  readonly commonName?: string;
}

/** Refused before any key is drawn: a bad value would otherwise surface as a TypeError deep in key generation. */
export function checkKeyAlgorithm(keyAlgorithm: string): asserts keyAlgorithm is KeyAlgorithm {
  if (!isKeyAlgorithm(keyAlgorithm)) throw new SpecError('keyAlgorithm', `must be one of ${KEY_ALGORITHMS.join(', ')} (got ${JSON.stringify(keyAlgorithm)})`);
}

/** The record of `slot`, schema-checked; undefined when there is none. */
export function readCertificateRecord(ctx: StateContext, slot: string): CertificateRecord | undefined {
  const name = certificateRecordName(slot);
  const data = ctx.txn.read(name);
  return data && parseRecord('certificate', data, ctx.txn.store.locate(name));
}

/**
 * The recorded certificate with its key, after checking that they belong together: the key file holds the
 * certified key, and the signature verifies (under the certificate's own key when self-signed, else under
 * the issuer recorded with it). A key swapped for another, or a tampered certificate, stops synth here.
 * node's X509Certificate (OpenSSL) does both checks natively. A record whose digest holds was checked when it
 * was issued and has not changed since, and neither has its key file when that matches its recorded digest.
 */
function recordedMaterial(ctx: StateContext, slot: string, record: CertificateRecord): { key: StoredKey; certificate: Certificate; chain: Certificate[] } {
  const recordFile = ctx.txn.store.locate(certificateRecordName(slot));
  if (isVerifiedRecord(record)) return { key: deferredKey(ctx, slot, record, recordFile), ...certificatesOf(record) };
  const key = readKeyFile(ctx, slot, record.keyGeneration, recordFile);
  const x509 = checkKeyCertified(ctx, slot, record, key, recordFile);
  const signer = record.chain.length ? new crypto.X509Certificate(record.chain[0]).publicKey : x509.publicKey;
  if (!x509.verify(signer)) {
    throw new StateError(`the certificate in ${recordFile} does not verify under ${record.chain.length ? 'its recorded issuer' : 'its own key'} (modified?); restore it from a backup`);
  }
  return { key, ...certificatesOf(record) };
}

function checkKeyCertified(ctx: StateContext, slot: string, record: CertificateRecord, key: StoredKey, recordFile: string): crypto.X509Certificate {
  const x509 = new crypto.X509Certificate(record.certificate);
  if (!x509.checkPrivateKey(key.privateKey)) {
    throw new StateError(`${ctx.txn.store.locate(keyFileName(slot, record.keyGeneration))} does not hold the key that the certificate in ${recordFile} certifies (replaced?); restore the key file from a backup`);
  }
  return x509;
}

/**
 * The recorded key of a record whose digest holds. Its file is read and its digest compared at once (a changed
 * key file stops synth here, as it always did), but the key is loaded only when something uses it; in a
 * passphrase state even the read waits for that.
 */
function deferredKey(ctx: StateContext, slot: string, record: CertificateRecord, recordFile: string): StoredKey {
  const name = keyFileName(slot, record.keyGeneration);
  let privateKey: crypto.KeyObject | undefined;
  const deferred = (load: () => crypto.KeyObject): StoredKey => ({
    generation: record.keyGeneration,
    get privateKey() {
      privateKey ??= load();
      return privateKey;
    },
  });
  // Where a read costs a scrypt, the key file is only looked for now, and read and checked when used.
  if (ctx.txn.store.costlyReads) {
    if (!ctx.txn.namesIn(slot).has(name.slice(slot.length + 1))) readKeyFile(ctx, slot, record.keyGeneration, recordFile);
    return deferred(() => recordedKey(ctx, slot, record, recordFile).privateKey);
  }
  const data = ctx.txn.read(name);
  if (!data || sha256Hex(data) !== record.keySha256) return recordedKey(ctx, slot, record, recordFile);
  return deferred(() => readKeyFile(ctx, slot, record.keyGeneration, recordFile).privateKey);
}

/** The key file `record` names, checked to be the certified key: by its recorded digest when that matches, else by the certificate. */
export function recordedKey(ctx: StateContext, slot: string, record: CertificateRecord, recordFile: string): StoredKey {
  const key = readKeyFile(ctx, slot, record.keyGeneration, recordFile);
  if (record.keySha256 === undefined || sha256Hex(ctx.txn.read(keyFileName(slot, record.keyGeneration))!) !== record.keySha256) checkKeyCertified(ctx, slot, record, key, recordFile);
  return key;
}

/**
 * The credential for `request`: kept when the policy says so, else issued (or re-issued) and staged; with the
 * policy's decision, which is the one the plan reports.
 */
export function ensureCertificate(ctx: StateContext, request: CredentialRequest, cached: Credential | undefined): { credential: Credential; decision: SlotDecision } {
  checkSlot(request.slot);
  checkKeyAlgorithm(request.keyAlgorithm);
  const slot = request.slot;
  const spec = validateCertificateSpec(request.spec);
  const record = readCertificateRecord(ctx, slot);
  const recordFile = ctx.txn.store.locate(certificateRecordName(slot));
  const policyRequest: ReissueRequest = {
    slot,
    spec,
    keyAlgorithm: request.keyAlgorithm,
    issuer: request.issuer?.certificate.fingerprintSha256 ?? 'self',
    renewBeforeSeconds: request.renewBeforeSeconds,
    keyPolicy: request.keyPolicy,
  };
  const decision = decideReissue(policyRequest, record, ctx.now());
  if (decision.action === 'refuse') throw new SpecError(decision.field, decision.reason);
  const renewalDue = decision.action === 'keep' || decision.action === 'issue' ? undefined : decision.reasons.find((r) => r.kind === 'renewal-due');
  const renewAt = decision.action === 'keep' ? decision.renewAt : renewalDue?.kind === 'renewal-due' ? renewalDue.renewAt : undefined;
  const withDecision = (credential: Credential, notAfter: Date, reasons: string[]) => ({
    credential,
    decision: { slot, kind: 'certificate', action: decision.action, reasons, renewAt, notAfter, commonName: spec.subject.commonName } satisfies SlotDecision,
  });
  // Checked when this synth first returned it.
  if (decision.action === 'keep' && cached) return withDecision(cached, recordNotAfter(record!), []);
  const recorded = record && recordedMaterial(ctx, slot, record);
  // A key above the recorded generation is adopted only when a killed synth wrote it (commit journal).
  const orphan = unrecordedKey(ctx, slot, record?.keyGeneration ?? 0, recordFile);
  if (decision.action === 'keep') {
    return withDecision(credentialOf(slot, recorded!.key, recorded!.certificate, recorded!.chain), recordNotAfter(record!), []);
  }

  const newKey = decision.action === 'issue' || decision.newKey;
  const adoptable = orphan && orphanMatches(orphan, request.keyAlgorithm) ? orphan : undefined;
  const key = !newKey ? recorded!.key : (adoptable ?? drawKey(ctx, slot, request.keyAlgorithm, (keyGenerations(ctx, slot).pop() ?? 0) + 1));
  const reasons = decision.action === 'issue' ? ['not in the state'] : decision.reasons.map(describeReason);
  if (newKey && record) reasons.push(`new key (generation ${key.generation})`);

  const { certificate, chain, record: newRecord } = issueRecord(ctx, policyRequest, key, request.issuer, reasons);
  ctx.txn.stage(slot, certificateRecordName(slot), serializeRecord('certificate', newRecord, recordFile), false, reasons);
  return withDecision(credentialOf(slot, key, certificate, chain), new Date(newRecord.notAfter!), reasons);
}

/** A credential whose private key is read from `key` when first used (a kept one's key may never be). */
function credentialOf(slot: string, key: StoredKey, certificate: Certificate, chain: Certificate[]): Credential {
  return {
    slot,
    keyGeneration: key.generation,
    certificate,
    chain,
    get privateKey() {
      return key.privateKey;
    },
  };
}

/**
 * A certificate for `request` (spec validated) certifying `key`, signed by `issuer` (self-signed when absent),
 * and the record that keeps it; nothing is staged. `reasons` say why it is issued, in the record and in errors.
 */
export function issueRecord(ctx: StateContext, request: ReissueRequest, key: StoredKey, issuer: Issuer | undefined, reasons: string[]): { certificate: Certificate; chain: Certificate[]; record: CertificateRecord } {
  const { slot, spec } = request;
  const signer = issuer ? { certificate: issuer.certificate, privateKey: issuer.privateKey } : { privateKey: key.privateKey };
  if (!signer.privateKey) {
    throw new SpecError(
      'issuer.privateKey',
      `"${spec.subject.commonName}" must be issued (${reasons.join('; ')}), which needs the private key of its issuer "${issuer!.certificate.subject.commonName}"; supply it for this synth`,
    );
  }
  const now = ctx.now();
  const specHash = specHashOf(request);
  const certificate = issueCertificate(spec, key.privateKey, { certificate: signer.certificate, privateKey: signer.privateKey }, now, {
    serial: ctx.entropy.serial(`${slot}:${specHash}:${now.toISOString()}:${key.generation}`),
    deterministicSignature: ctx.entropy.deterministicSignatures,
  });
  ctx.progress.step();
  const chain = issuer ? [issuer.certificate, ...issuer.chain] : [];
  const description = describeCertificate(certificate);
  const material = {
    certificate: certificate.pem,
    chain: chain.map((c) => c.pem),
    keySha256: sha256Hex(ctx.txn.read(keyFileName(slot, key.generation))!),
    notAfter: new Date(description['not-after']).toISOString(),
    description,
  };
  const record: CertificateRecord = {
    version: 1,
    keyAlgorithm: request.keyAlgorithm,
    keyGeneration: key.generation,
    specHash,
    spec: JSON.parse(JSON.stringify(spec)),
    issuer: request.issuer,
    ...material,
    materialSha256: materialDigest(material),
    issuedAt: now.toISOString(),
    reasons,
    ...(ctx.entropy.seeded ? { seeded: true } : {}),
  };
  return { certificate, chain, record };
}

/** An orphan of another algorithm (the request changed since the killed synth) is left as it is. */
export function orphanMatches(orphan: StoredKey, algorithm: KeyAlgorithm): boolean {
  try {
    return keyAlgorithmOf(orphan.privateKey) === algorithm;
  } catch {
    return false;
  }
}
