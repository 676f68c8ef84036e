// Argo CD applies a sync wave only once every object of the lower waves is healthy. A cert-manager issuer is healthy
// once Ready, which needs the Secret it reads; a Certificate needs a Ready issuer. Each object of this library is
// placed by its role, so one sync brings a whole chain up in order.
/** The annotation Argo CD orders a sync by. */
export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';

/** The sync wave of each kind of object this library writes: CA material first, Certificates last. */
export const SYNC_WAVES = {
  /** A Secret holding a CA key pair for a `ca` issuer. */
  caSecret: -15,
  /** The selfSigned issuer that starts a CA bootstrap chain. */
  bootstrapIssuer: -15,
  /** A ConfigMap a trust-manager Bundle reads its certificates from. */
  bundleSource: -15,
  /** A CA Certificate issued by a bootstrap issuer; its Secret is what the CA issuer reads. */
  caCertificate: -10,
  /** Issuers and ClusterIssuers. */
  issuer: -5,
  /** trust-manager Bundles: the trust is in place before the certificates it verifies are. */
  bundle: -5,
  /** Certificates issued by the issuers above. */
  certificate: 0,
} as const;

/** The annotation that places an object in a wave. */
export function syncWaveAnnotation(wave: number): Record<string, string> {
  return { [SYNC_WAVE_ANNOTATION]: String(wave) };
}
