/**
 * How Rancher's Helm chart (v2.8–v2.12) terminates TLS, as one table: the chart values each mode sets and the
 * props each mode takes. Sources: rancher/rancher chart/values.yaml and chart/templates (issuer-*.yaml,
 * ingress.yaml, deployment.yaml). No cdk8s here.
 */

/** The namespace the chart must be installed in; the Secrets below live there. */
export const RANCHER_NAMESPACE = 'cattle-system';
/** The Ingress's TLS Secret (kubernetes.io/tls): written by cert-manager, or brought in `secret` mode. */
export const INGRESS_TLS_SECRET = 'tls-rancher-ingress';
/** The uploaded CA (Opaque) mounted at /etc/rancher/ssl/cacerts.pem when `privateCA` is true. */
export const CA_SECRET = 'tls-ca';
/** The key of tls-ca holding the uploaded CA. */
export const CACERTS_KEY = 'cacerts.pem';
/** Where the state keeps, under each slot, what export-rancher writes for a RancherIngressTLS with `install: 'docker'`. */
export const SINGLE_NODE_PLANS = 'rancher-single-node';
/** The chart repository of Rancher's stable releases (`helm repo add rancher-stable …`). */
export const RANCHER_STABLE_REPOSITORY = 'https://releases.rancher.com/server-charts/stable';

/** What prints the CATTLE_CA_CHECKSUM a running Rancher at `hostname` gives agents (rancher-docs, "Updating a Private CA Certificate"). */
export function cacertsChecksumCommand(hostname: string): string {
  return `curl -k -s -fL https://${hostname}/v3/settings/cacerts | jq -r .value | sha256sum`;
}

/**
 * The chart's TLS modes: `rancher` (Rancher's own CA through cert-manager), `letsEncrypt`, `secret` (a certificate
 * brought in Secret tls-rancher-ingress) and `external` (TLS ends in front of Rancher).
 */
export type RancherTlsMode = 'rancher' | 'letsEncrypt' | 'secret' | 'external';
/** How Rancher is installed: the chart into a Kubernetes cluster, or one container on a Docker host (`docker run`). */
export type RancherInstall = 'helm' | 'docker';
/** How agents verify Rancher: `strict` only with the CA Rancher serves as cacerts; `system-store` also with the system's roots. */
export type AgentTlsMode = 'strict' | 'system-store';
/** Let's Encrypt's production or staging environment (chart value `letsEncrypt.environment`). */
export type LetsEncryptEnvironment = 'production' | 'staging';

/** Props that only some modes take. */
export type ModeSpecificProp = 'email' | 'environment' | 'ingressClass' | 'certificate' | 'cacertsPem';

interface ModeRow {
  /** Chart value `tls`: TLS ends at the Ingress, or in front of Rancher (a load balancer or proxy). */
  readonly tls: 'ingress' | 'external';
  /** Chart value `ingress.tls.source`; absent when TLS ends in front of Rancher, where the chart ignores it. */
  readonly source?: 'rancher' | 'letsEncrypt' | 'secret';
  /** The mode-specific props it takes. `cacertsPem` uploads a CA (privateCA=true, Secret tls-ca). */
  readonly props: readonly ModeSpecificProp[];
}

/** Per TLS mode: the chart's `tls` and `ingress.tls.source` values and the props the mode takes. */
export const RANCHER_TLS_MODES: Readonly<Record<RancherTlsMode, ModeRow>> = {
  // cert-manager issues tls-rancher-ingress from Issuer `rancher`, a CA issuer over Rancher's own generated CA
  // (Secret tls-rancher). An uploaded CA would not be the one that signs, so none is taken.
  rancher: { tls: 'ingress', source: 'rancher', props: [] },
  // cert-manager issues tls-rancher-ingress from Issuer `rancher`, an ACME issuer. The Let's Encrypt root may be
  // uploaded, as strict agents need.
  letsEncrypt: { tls: 'ingress', source: 'letsEncrypt', props: ['email', 'environment', 'ingressClass', 'cacertsPem'] },
  // tls-rancher-ingress is brought (issued here or given as PEM); its CA is uploaded when private.
  secret: { tls: 'ingress', source: 'secret', props: ['certificate', 'cacertsPem'] },
  // Nothing TLS-related in the cluster but the uploaded CA of the front, when private.
  external: { tls: 'external', props: ['cacertsPem'] },
};

/** True for one of the chart's TLS modes. */
export function isRancherTlsMode(value: unknown): value is RancherTlsMode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(RANCHER_TLS_MODES, value);
}

/**
 * Whether the chart starts Rancher with `--no-cacerts` (empty cacerts setting), as deployment.yaml decides:
 * an uploaded CA keeps cacerts; so does Rancher's own CA at the Ingress; anything else is taken for a public CA.
 */
export function runsWithoutCacerts(mode: RancherTlsMode, privateCA: boolean): boolean {
  const row = RANCHER_TLS_MODES[mode];
  return !privateCA && !(row.tls === 'ingress' && row.source === 'rancher');
}
