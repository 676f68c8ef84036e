// cert-manager Issuers and ClusterIssuers (cert-manager.io/v1) as data, and the rules cert-manager's webhook
// applies to their spec (internal/apis/certmanager/validation/issuer.go), so that synth fails where `kubectl apply`
// would. Field paths are relative to `spec`, in cert-manager's spelling (`acme.privateKeySecretRef.name`).
import { SpecError } from '../engine/errors';
import { isHttpsUrl } from '../engine/names';
import { DNS1123_SUBDOMAIN_MESSAGE, isDns1123Subdomain, isPlainEmailAddress } from './names';

/** cert-manager's API group, of Issuer, ClusterIssuer and Certificate. */
export const CERT_MANAGER_GROUP = 'cert-manager.io';

/** Where each kind is visible, and where cert-manager reads the Secrets its spec names (a CA key pair, an ACME key). */
export const ISSUER_KINDS = {
  /** A namespaced issuer. */
  Issuer: {
    /** Whether the kind is namespaced. */
    namespaced: true,
    /** Where its Secrets are read from. */
    secretsFrom: "the Issuer's own namespace",
  },
  /** A cluster-scoped issuer. */
  ClusterIssuer: {
    /** Whether the kind is namespaced. */
    namespaced: false,
    /** Where its Secrets are read from. */
    secretsFrom: 'the cluster resource namespace (--cluster-resource-namespace, default "cert-manager")',
  },
} as const;
/** `Issuer` or `ClusterIssuer`. */
export type IssuerKind = keyof typeof ISSUER_KINDS;

/** cert-manager's --cluster-resource-namespace default: where a ClusterIssuer's Secrets must be. */
export const DEFAULT_CLUSTER_RESOURCE_NAMESPACE = 'cert-manager';

/**
 * The issuer types this project writes, and what a Certificate may ask of each. The `ca.crt` of the Secret
 * cert-manager writes differs too: the certificate itself (selfSigned), the root of the CA Secret (ca), none (acme).
 */
export const ISSUER_TYPES = {
  /** Signs each certificate with its own key. */
  selfSigned: {
    /** Whether a Certificate with `isCA` may ask it. */
    issuesCaCertificates: true,
  },
  /** Signs with the CA key pair of a Secret. */
  ca: {
    /** Whether a Certificate with `isCA` may ask it. */
    issuesCaCertificates: true,
  },
  // ACME CAs issue end-entity certificates only; cert-manager refuses isCA for them.
  /** Obtains certificates from an ACME CA. */
  acme: {
    /** Whether a Certificate with `isCA` may ask it. */
    issuesCaCertificates: false,
  },
} as const;
/** `selfSigned`, `ca` or `acme`. */
export type IssuerType = keyof typeof ISSUER_TYPES;

/** Let's Encrypt's ACME directories by name. Staging certificates chain to roots no client trusts. */
export const LETS_ENCRYPT_SERVERS = {
  /** Let's Encrypt's production directory. */
  'letsencrypt-production': 'https://acme-v02.api.letsencrypt.org/directory',
  /** Let's Encrypt's staging directory (untrusted roots, generous rate limits). */
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
} as const;
/** `letsencrypt-production` or `letsencrypt-staging`. */
export type LetsEncryptServerName = keyof typeof LETS_ENCRYPT_SERVERS;

/** The directory URL of an ACME server given by name (`letsencrypt-production`) or by its https:// URL. */
export function acmeServerUrl(server: string): string {
  if (Object.hasOwn(LETS_ENCRYPT_SERVERS, server)) return LETS_ENCRYPT_SERVERS[server as LetsEncryptServerName];
  if (!isHttpsUrl(server, { path: true })) {
    throw new SpecError('acme.server', `"${server}" is neither a known server (${Object.keys(LETS_ENCRYPT_SERVERS).join(', ')}) nor an https:// directory URL`);
  }
  return server;
}

/** cert-manager's SecretKeySelector: one key of a Secret. */
export interface SecretKeySelector {
  /** The Secret's name. */
  readonly name?: string;
  /** The key within the Secret. */
  readonly key?: string;
}

/** An Issuer's or ClusterIssuer's spec as JSON, limited to the types this project writes. */
export interface IssuerSpec {
  /** A selfSigned issuer (an empty object). */
  readonly selfSigned?: Record<string, never>;
  /** A CA issuer. */
  readonly ca?: {
    /** The Secret holding the CA key pair. */
    readonly secretName?: string;
  };
  /** An ACME issuer. */
  readonly acme?: AcmeIssuerSpec;
  /** A Vault issuer (not written here; checked only as one more issuer type). */
  readonly vault?: unknown;
  /** A Venafi issuer (not written here; checked only as one more issuer type). */
  readonly venafi?: unknown;
}

/** An ACME issuer's spec (`spec.acme`). */
export interface AcmeIssuerSpec {
  /** The ACME directory URL. */
  readonly server?: string;
  /** The account contact. */
  readonly email?: string;
  /** The Secret keeping the ACME account key. */
  readonly privateKeySecretRef?: {
    /** The Secret's name. */
    readonly name?: string;
  };
  /** How challenges are answered. */
  readonly solvers?: AcmeSolverSpec[];
}

/** One ACME solver (`spec.acme.solvers[]`): HTTP-01 or DNS-01. */
export interface AcmeSolverSpec {
  /** HTTP-01. */
  readonly http01?: {
    /** Through an Ingress. */
    readonly ingress?: {
      /** `spec.ingressClassName` of the solver's Ingress. */
      readonly ingressClassName?: string;
      /** The `kubernetes.io/ingress.class` annotation of the solver's Ingress. */
      readonly class?: string;
      /** An existing Ingress to edit. */
      readonly name?: string;
    };
    /** Through a Gateway API HTTPRoute (not written here). */
    readonly gatewayHTTPRoute?: unknown;
  };
  /** DNS-01, by provider. */
  readonly dns01?: {
    /** Cloudflare. */
    readonly cloudflare?: {
      /** An API token. */
      readonly apiTokenSecretRef?: SecretKeySelector;
      /** A global API key (with `email`). */
      readonly apiKeySecretRef?: SecretKeySelector;
      /** The account email of an API key. */
      readonly email?: string;
    };
    /** Route 53. */
    readonly route53?: {
      /** The AWS region. */
      readonly region?: string;
      /** A static access key id, inline. */
      readonly accessKeyID?: string;
      /** A static access key id, from a Secret. */
      readonly accessKeyIDSecretRef?: SecretKeySelector;
      /** The static key's secret, from a Secret. */
      readonly secretAccessKeySecretRef?: SecretKeySelector;
      /** An IAM role to assume. */
      readonly role?: string;
    };
    readonly [provider: string]: unknown;
  };
}

/**
 * Throws a SpecError for the first thing cert-manager's webhook would refuse in an Issuer or ClusterIssuer spec, and
 * for an ACME issuer that the webhook accepts but that cannot obtain a certificate (no solver) or that leaves the CA
 * no way to reach its owner (no email).
 */
export function checkIssuerSpec(spec: IssuerSpec): void {
  const types = (['acme', 'ca', 'selfSigned', 'vault', 'venafi'] as const).filter((type) => spec[type] !== undefined);
  if (types.length === 0) throw new SpecError('', 'at least one issuer must be configured (selfSigned, ca or acme)');
  if (types.length > 1) throw new SpecError(types[1], `may not specify more than one issuer type (${types.join(' and ')} are set)`);
  if (spec.ca && !spec.ca.secretName) throw new SpecError('ca.secretName', 'required: the Secret holding the CA key pair (tls.crt, tls.key)');
  if (spec.acme) checkAcmeIssuer(spec.acme);
}

function checkAcmeIssuer(acme: AcmeIssuerSpec): void {
  if (!acme.server) throw new SpecError('acme.server', 'acme server URL is a required field');
  if (!acme.privateKeySecretRef?.name) throw new SpecError('acme.privateKeySecretRef.name', 'private key secret name is a required field');
  // cert-manager would register an account without a contact; the CA could then never warn about a problem.
  if (!acme.email) throw new SpecError('acme.email', 'required: the ACME account contact the CA writes to about expiring or revoked certificates');
  if (!isPlainEmailAddress(acme.email)) throw new SpecError('acme.email', `"${acme.email}" is not a plain email address (the ACME server would refuse the account contact)`);
  // cert-manager accepts an ACME issuer without solvers, and then fails every order: no challenge can be answered.
  if (!acme.solvers || acme.solvers.length === 0) throw new SpecError('acme.solvers', 'at least one HTTP-01 or DNS-01 solver is needed: without one, cert-manager cannot complete any order');
  acme.solvers.forEach((solver, i) => checkAcmeSolver(solver, `acme.solvers[${i}]`));
}

function checkAcmeSolver(solver: AcmeSolverSpec, at: string): void {
  if (solver.http01 && solver.dns01) throw new SpecError(at, 'may not specify more than one solver type in a single solver');
  if (solver.http01) {
    const ingress = solver.http01.ingress;
    if (!ingress && !solver.http01.gatewayHTTPRoute) throw new SpecError(`${at}.http01`, 'no HTTP01 solver type configured');
    if (ingress) {
      const given = (['ingressClassName', 'class', 'name'] as const).filter((field) => ingress[field] !== undefined);
      if (given.length > 1) throw new SpecError(`${at}.http01.ingress`, `only one of 'ingressClassName', 'name' or 'class' should be specified (${given.join(' and ')} are set)`);
      if (ingress.ingressClassName !== undefined && !isDns1123Subdomain(ingress.ingressClassName)) {
        throw new SpecError(`${at}.http01.ingress.ingressClassName`, `must be a valid IngressClass name: ${DNS1123_SUBDOMAIN_MESSAGE} (got "${ingress.ingressClassName}")`);
      }
    }
    return;
  }
  if (!solver.dns01) throw new SpecError(at, 'no solver type configured (http01 or dns01)');
  const providers = Object.keys(solver.dns01).filter((key) => key !== 'cnameStrategy' && solver.dns01![key] !== undefined);
  if (providers.length === 0) throw new SpecError(`${at}.dns01`, 'no DNS01 provider configured');
  if (providers.length > 1) throw new SpecError(`${at}.dns01.${providers[1]}`, `may not specify more than one provider type (${providers.join(' and ')} are set)`);
  const { cloudflare, route53 } = solver.dns01;
  if (cloudflare) {
    if (!cloudflare.apiTokenSecretRef && !cloudflare.apiKeySecretRef) throw new SpecError(`${at}.dns01.cloudflare`, 'apiKeySecretRef or apiTokenSecretRef is required');
    if (cloudflare.apiTokenSecretRef) checkSecretKeySelector(cloudflare.apiTokenSecretRef, `${at}.dns01.cloudflare.apiTokenSecretRef`);
  }
  if (route53) {
    if (route53.accessKeyID !== undefined && route53.accessKeyIDSecretRef) {
      throw new SpecError(`${at}.dns01.route53`, 'accessKeyID and accessKeyIDSecretRef cannot both be specified');
    }
    if (route53.accessKeyIDSecretRef) checkSecretKeySelector(route53.accessKeyIDSecretRef, `${at}.dns01.route53.accessKeyIDSecretRef`);
    if (route53.secretAccessKeySecretRef) checkSecretKeySelector(route53.secretAccessKeySecretRef, `${at}.dns01.route53.secretAccessKeySecretRef`);
    // With only one half of a static key, the AWS SDK fails at the first challenge; with neither it uses ambient credentials.
    const hasKeyId = route53.accessKeyID !== undefined || route53.accessKeyIDSecretRef !== undefined;
    if (hasKeyId !== (route53.secretAccessKeySecretRef !== undefined)) {
      throw new SpecError(`${at}.dns01.route53`, 'an access key ID and secretAccessKeySecretRef go together: give both, or neither to use ambient credentials or a role');
    }
  }
}

function checkSecretKeySelector(selector: SecretKeySelector, at: string): void {
  if (!selector.name) throw new SpecError(`${at}.name`, 'secret name is required');
  if (!selector.key) throw new SpecError(`${at}.key`, 'secret key is required');
}
