// Workload certificates from a CA of this app, issued in the cluster by cert-manager, and the CA distributed to
// the namespaces that must trust it by trust-manager: the orders service serves a certificate of the workload CA,
// and a client in another namespace verifies it with the bundle trust-manager copies there.
import { ApiObject, App, Chart, ChartProps, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { certManager, ClusterCA } from 'cdk8s-pki';

export const SERVER_NAMESPACE = 'shop';
export const CLIENT_NAMESPACE = 'storefront';
/** The names clients reach the orders Service by. */
export const ORDERS_DNS_NAMES = [`orders.${SERVER_NAMESPACE}.svc`, `orders.${SERVER_NAMESPACE}.svc.cluster.local`];

export class WorkloadCertificates extends Chart {
  readonly workloadCa: ClusterCA;
  readonly issuer: certManager.ClusterCaIssuer;
  readonly ordersCertificate: certManager.Certificate;
  readonly bundle: certManager.TrustBundle;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    for (const name of [SERVER_NAMESPACE, CLIENT_NAMESPACE]) new ApiObject(this, `namespace-${name}`, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

    // A CA for workloads only: not the cluster's Kubernetes CA, which the API server trusts for client certificates.
    this.workloadCa = new ClusterCA(this, 'workload-ca', { commonName: 'Example Workload CA', bundleNamespace: 'cert-manager' });
    // ClusterIssuer "workload-ca", signing with the CA's key pair (Secret cert-manager/workload-ca-key-pair).
    this.issuer = new certManager.ClusterCaIssuer(this, 'workload-ca-issuer', { ca: this.workloadCa, name: 'workload-ca' });

    // cert-manager issues it into Secret shop/orders-tls and renews it; its key never leaves the cluster.
    this.ordersCertificate = new certManager.Certificate(this, 'orders-tls', {
      issuer: this.issuer,
      name: 'orders-tls',
      namespace: SERVER_NAMESPACE,
      dnsNames: ORDERS_DNS_NAMES,
      usages: ['digital signature', 'server auth'],
      privateKey: { algorithm: 'ECDSA', size: 256 },
      duration: Duration.days(30),
      renewBefore: Duration.days(10),
    });

    // ConfigMap "workload-ca" (key ca.crt) in each namespace that must trust the CA.
    this.bundle = new certManager.TrustBundle(this, 'workload-ca-bundle', {
      ca: this.workloadCa,
      name: 'workload-ca',
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [SERVER_NAMESPACE, CLIENT_NAMESPACE] }] },
    });

    this.ordersServer(this.ordersCertificate.secretName);
    this.ordersClient(this.bundle.name);
  }

  /** nginx serving HTTPS on 8443 with the Secret cert-manager writes, behind Service orders:443. */
  private ordersServer(secretName: string): void {
    const labels = { app: 'orders' };
    const config = new ApiObject(this, 'orders-nginx', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'orders-nginx', namespace: SERVER_NAMESPACE },
      data: {
        'default.conf': [
          'server {',
          '  listen 8443 ssl;',
          '  ssl_certificate /etc/orders-tls/tls.crt;',
          '  ssl_certificate_key /etc/orders-tls/tls.key;',
          '  location / { return 200 "orders\\n"; }',
          '}',
          '',
        ].join('\n'),
      },
    });
    new ApiObject(this, 'orders', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'orders', namespace: SERVER_NAMESPACE },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'nginx',
                image: 'nginxinc/nginx-unprivileged:1.27',
                ports: [{ name: 'https', containerPort: 8443 }],
                volumeMounts: [
                  { name: 'tls', mountPath: '/etc/orders-tls', readOnly: true },
                  { name: 'config', mountPath: '/etc/nginx/conf.d', readOnly: true },
                ],
              },
            ],
            // nginx reads the certificate when it starts: a renewal reaches it with the next rollout.
            volumes: [
              { name: 'tls', secret: { secretName } },
              { name: 'config', configMap: { name: config.name } },
            ],
          },
        },
      },
    });
    new ApiObject(this, 'orders-service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'orders', namespace: SERVER_NAMESPACE },
      spec: { selector: labels, ports: [{ name: 'https', port: 443, targetPort: 'https' }] },
    });
  }

  /** A Job calling the orders Service over HTTPS, trusting the workload CA only, from the bundle's ConfigMap. */
  private ordersClient(bundleConfigMap: string): void {
    new ApiObject(this, 'orders-check', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'orders-check', namespace: CLIENT_NAMESPACE },
      spec: {
        backoffLimit: 3,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'curl',
                image: 'curlimages/curl:8.11.1',
                args: ['--fail', '--silent', '--show-error', '--cacert', `/etc/workload-ca/${certManager.TRUST_BUNDLE_KEY}`, `https://${ORDERS_DNS_NAMES[0]}/`],
                volumeMounts: [{ name: 'workload-ca', mountPath: '/etc/workload-ca', readOnly: true }],
              },
            ],
            volumes: [{ name: 'workload-ca', configMap: { name: bundleConfigMap } }],
          },
        },
      },
    });
  }
}

if (require.main === module) {
  const app = new App();
  new WorkloadCertificates(app, 'workload-certificates');
  app.synth();
}
