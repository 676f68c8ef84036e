import { ApiObject, Chart, Names } from 'cdk8s';
import { Construct } from 'constructs';
import { SpecError } from '../src/engine/errors';
import { ExtendedKeyUsageName } from '../src/engine/spec';
import { emitSecret, SecretOutput } from './secret-output';
import { SignedCertificate, SignedCertificateOptions } from './signed-certificate';
import { TLS_CERTIFICATE_PROPS } from './known-props';

/** Engine spec fields → the TlsCertificate props they come from, so errors name the prop. */
const TLS_PROP_FIELDS = {
  'subject.commonName': 'commonName',
  'subject.organizations': 'organizations',
  'sans.dnsNames': 'dnsNames',
  'sans.ipAddresses': 'ipAddresses',
};

/** What the certificate is for, as extended key usages. */
export const TLS_USAGES: Record<'server' | 'client' | 'peer', ExtendedKeyUsageName[]> = {
  server: ['serverAuth'],
  client: ['clientAuth'],
  // etcd's server and peer certificates: each side of a connection both serves and authenticates.
  peer: ['serverAuth', 'clientAuth'],
};

/** The kubernetes.io/tls Secret a TlsCertificate is delivered in. */
export interface TlsSecretOptions {
  /** The Secret's name. Metadata only. @default - generated from the construct path */
  readonly name?: string;
  /** The Secret's namespace. Metadata only. @default - the chart's namespace, else "default" */
  readonly namespace?: string;
  /**
   * What becomes of the Secret, which holds the key: left out (`cdk8s-pki export-secrets` writes it), sealed,
   * or plaintext by explicit choice.
   * @default - the app's policy (`useSecretOutput`), omit unless set
   */
  readonly secretOutput?: SecretOutput;
}

export interface TlsCertificateProps extends SignedCertificateOptions {
  /** Subject CN. Re-issues the certificate. */
  readonly commonName: string;
  /** Subject O values (Kubernetes groups for a client certificate). Re-issues the certificate. @default - none */
  readonly organizations?: string[];
  /** DNS SANs. Re-issues the certificate. @default - none */
  readonly dnsNames?: string[];
  /** IP SANs. Re-issues the certificate. @default - none */
  readonly ipAddresses?: string[];
  /** Re-issues the certificate. @default - "server" */
  readonly usage?: keyof typeof TLS_USAGES;
  /** "rotate" gives every re-issued certificate a new key. @default - "keep" */
  readonly keyPolicy?: 'keep' | 'rotate';
  /**
   * The kubernetes.io/tls Secret it is delivered in (tls.crt: the certificate then its intermediates; tls.key;
   * ca.crt: the CA bundle), under the secret output policy. `false` for a certificate another construct delivers.
   * @default - a Secret named from the construct path in the chart's namespace, under the app's policy
   */
  readonly secret?: TlsSecretOptions | false;
}

/**
 * A TLS server, client or peer certificate signed by a CA, delivered as a kubernetes.io/tls Secret under the
 * secret output policy (by default left out of the manifests and written by `cdk8s-pki export-secrets`).
 */
export class TlsCertificate extends SignedCertificate {
  /** The Secret or SealedSecret, when the policy synthesizes one. */
  readonly secret?: ApiObject;

  constructor(scope: Construct, id: string, props: TlsCertificateProps) {
    super(scope, id, props, () => {
      const usage = props.usage ?? 'server';
      if (!TLS_USAGES[usage]) throw new SpecError('usage', `must be one of ${Object.keys(TLS_USAGES).join(', ')} (got ${JSON.stringify(usage)})`);
      return {
        spec: {
          subject: { commonName: props.commonName, organizations: props.organizations },
          sans: { dnsNames: props.dnsNames, ipAddresses: props.ipAddresses },
          extendedKeyUsage: TLS_USAGES[usage],
        },
        keyPolicy: props.keyPolicy,
        propNames: TLS_PROP_FIELDS,
      };
    }, TLS_CERTIFICATE_PROPS);
    if (props.secret === false) return;
    const options = props.secret ?? {};
    this.secret = emitSecret(
      this,
      'Secret',
      {
        name: options.name ?? Names.toDnsLabel(this),
        namespace: options.namespace ?? Chart.of(this).namespace ?? 'default',
        type: 'kubernetes.io/tls',
        data: {
          'tls.crt': { kind: 'text', text: this.fullChainPem },
          'tls.key': { kind: 'private-key', key: this.keyReference },
          'ca.crt': { kind: 'text', text: this.caPem },
        },
      },
      options.secretOutput,
    );
  }
}
