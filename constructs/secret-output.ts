import * as fs from 'node:fs';
import { ApiObject } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { locateErrors, SpecError } from '../src/engine/errors';
import { sha256Hex } from '../src/engine/pem';
import { controllerFingerprint, encryptionLabel, hybridEncrypt, readControllerCertificate, scopeAnnotations, SealingScope } from '../src/secrets/sealed-secrets';
import { PlannedSecret, readSealedCache, recordOmittedSecret, recordSealedCache, SealedEntry, secretCertificateAnnotations } from '../src/secrets/secret-plan';
import { renderContent } from '../src/content/planned-content';
import { pkiStateOf, slotOf } from './state';

/** Marks a Secret whose private material is in the manifests unencrypted, by the user's explicit choice. */
export const PLAINTEXT_SECRET_ANNOTATION = 'pki.cdk8s.io/plaintext-secret';

interface SealedProps {
  /** The controller's certificate, as `kubeseal --fetch-cert` prints it: the PEM itself or the path of a file holding it. */
  readonly controllerCertificate: string;
  /** @default - "strict" (the name and namespace are part of the encryption) */
  readonly scope?: SealingScope;
}

/**
 * What happens to a Secret that holds private material (a key, a token): one policy for every construct.
 * Set it for the app with `useSecretOutput`, or per construct where a construct takes a `secretOutput` prop.
 */
export class SecretOutput {
  /** Not synthesized: `cdk8s-pki export-secrets --out DIR` writes it from the state for an out-of-band apply. The default. */
  static omit(): SecretOutput {
    return new SecretOutput({ mode: 'omit' });
  }

  /** A SealedSecret (bitnami.com/v1alpha1) that only the Sealed Secrets controller holding the key can open. */
  static sealed(props: SealedProps): SecretOutput {
    return new SecretOutput({ mode: 'sealed', ...props });
  }

  /** The Secret itself, unencrypted, annotated as such; synth warns about each one. Only by explicit choice. */
  static plaintext(): SecretOutput {
    return new SecretOutput({ mode: 'plaintext' });
  }

  private constructor(
    /** The mode (`omit`, `plaintext` or `sealed`), and for `sealed` the controller certificate and scope. */
    readonly policy:
      | {
          /** Leave the Secret out of the manifests. */
          readonly mode: 'omit';
        }
      | {
          /** Synthesize the Secret itself. */
          readonly mode: 'plaintext';
        }
      | ({
          /** Synthesize a SealedSecret. */
          readonly mode: 'sealed';
        } & SealedProps),
  ) {}
}

const appPolicies = new WeakMap<IConstruct, SecretOutput>();

/** Makes `policy` the secret output of the app `scope` belongs to (before adding constructs). */
export function useSecretOutput(scope: IConstruct, policy: SecretOutput): SecretOutput {
  appPolicies.set(scope.node.root, policy);
  return policy;
}

/** The app's policy: what `useSecretOutput` set, else omit. */
export function secretOutputOf(scope: IConstruct): SecretOutput {
  return appPolicies.get(scope.node.root) ?? SecretOutput.omit();
}

/**
 * Emits `secret` as the policy says (`policy`, else the app's): nothing (recorded in the state for
 * `export-secrets`), a SealedSecret, or a plaintext Secret. Returns the object synthesized, if any. A synthesized
 * object is annotated with the certificates of its public data (`pki.cdk8s.io/tls.not-after` …); a SealedSecret
 * on its own metadata, so that a renewal shows in the diff although its ciphertext is opaque.
 */
export function emitSecret(scope: Construct, id: string, secret: PlannedSecret, policy: SecretOutput = secretOutputOf(scope)): ApiObject | undefined {
  const state = pkiStateOf(scope);
  const where = `${scope.node.path}/${id}`;
  const slot = `${slotOf(scope)}/${id.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
  const chosen = policy.policy;
  const described = secretCertificateAnnotations(secret);
  switch (chosen.mode) {
    case 'omit':
      recordOmittedSecret(state, slot, secret);
      return undefined;
    case 'plaintext':
      process.stderr.write(`cdk8s-pki: warning: ${where}: Secret ${secret.namespace}/${secret.name} is written in plaintext (SecretOutput.plaintext())\n`);
      return new ApiObject(scope, id, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: secret.name, namespace: secret.namespace, annotations: { [PLAINTEXT_SECRET_ANNOTATION]: 'true', ...described } },
        type: secret.type,
        data: mapData(secret.data, (content) => Buffer.from(renderContent(state, content)).toString('base64')),
      });
    case 'sealed': {
      const publicKey = locateErrors(where, () => readControllerCertificate(certificatePem(chosen.controllerCertificate), 'secretOutput.controllerCertificate'));
      const scopeOfSeal = chosen.scope ?? 'strict';
      const label = encryptionLabel(scopeOfSeal, secret.namespace, secret.name);
      const cached = readSealedCache(state, slot);
      const sealedEntries: Record<string, SealedEntry> = {};
      for (const [key, content] of Object.entries(secret.data)) {
        const plaintext = renderContent(state, content);
        // Re-encrypted only when the plaintext, the controller key, the scope or the name changed: sealing is
        // randomized, so sealing again on every synth would churn every SealedSecret in Git.
        const fingerprint = sha256Hex(Buffer.from(JSON.stringify([plaintext, controllerFingerprint(publicKey), scopeOfSeal, label, key])));
        const previous = cached[key];
        sealedEntries[key] = previous?.fingerprint === fingerprint ? previous : { fingerprint, ciphertext: hybridEncrypt(publicKey, label, Buffer.from(plaintext)).toString('base64') };
      }
      recordSealedCache(state, slot, sealedEntries);
      const annotations = scopeAnnotations(scopeOfSeal);
      const ownAnnotations = { ...annotations, ...described };
      return new ApiObject(scope, id, {
        apiVersion: 'bitnami.com/v1alpha1',
        kind: 'SealedSecret',
        metadata: { name: secret.name, namespace: secret.namespace, ...(Object.keys(ownAnnotations).length ? { annotations: ownAnnotations } : {}) },
        spec: {
          encryptedData: mapData(sealedEntries, (entry) => entry.ciphertext),
          template: { metadata: { name: secret.name, namespace: secret.namespace, ...(Object.keys(annotations).length ? { annotations } : {}) }, type: secret.type },
        },
      });
    }
  }
}

function mapData<T>(data: Record<string, T>, render: (value: T) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, render(value)]));
}

/** The PEM itself, or the contents of the file it names. */
function certificatePem(value: string): string {
  if (value.includes('-----BEGIN')) return value;
  try {
    return fs.readFileSync(value, 'utf8');
  } catch (err) {
    throw new SpecError('secretOutput.controllerCertificate', `"${value}" is neither a PEM certificate nor a readable file (${(err as NodeJS.ErrnoException).code})`);
  }
}

