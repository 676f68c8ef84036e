import { parse } from 'yaml';
import { RancherLetsEncrypt } from '../../examples/rancher-letsencrypt/main';
import { showsWhole, walkThrough } from '../support/example-readme';
import { expectValidManifests } from '../support/kubernetes-schema';
import { synthRancherExample } from '../support/example-checks';

const synth = (environment?: 'production' | 'staging') => synthRancherExample((app) => new RancherLetsEncrypt(app, 'rancher-letsencrypt', { environment }));

describe('examples/rancher-letsencrypt', () => {
  const production = synth();

  test('synthesizes the manifests, PKI.md and the values file of the walk-through', () => {
    expect(Object.keys(production.files).sort()).toEqual(['PKI.md', 'rancher-letsencrypt-rancher-values.yaml', 'rancher-letsencrypt.k8s.yaml']);
    expect(production.files).toMatchSnapshot();
  });

  test('the one object is an Argo CD Application that validates against the Application CRD', () => {
    expect(production.documents.map((doc) => `${doc.apiVersion} ${doc.kind} ${doc.metadata.namespace}/${doc.metadata.name}`)).toEqual(['argoproj.io/v1alpha1 Application argocd/rancher']);
    expectValidManifests(production.documents);
  });

  test('Argo CD installs the chart into cattle-system with the values of the values file', () => {
    const { spec } = production.documents[0];
    expect(spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'cattle-system' });
    expect(spec.source).toMatchObject({ repoURL: 'https://releases.rancher.com/server-charts/stable', chart: 'rancher', targetRevision: '2.12.3', helm: { releaseName: 'rancher' } });
    expect(parse(production.valuesFile)).toEqual(spec.source.helm.valuesObject);
    expect(spec.source.helm.valuesObject).toEqual({
      hostname: 'rancher.example.com',
      ingress: { tls: { source: 'letsEncrypt', secretName: 'tls-rancher-ingress' } },
      privateCA: false,
      tls: 'ingress',
      letsEncrypt: { email: 'ops@example.com', environment: 'production', ingress: { class: 'nginx' } },
      agentTLSMode: 'system-store',
    });
  });

  test('a public CA: no CA uploaded, CATTLE_CA_CHECKSUM empty and said so in the values file, no warning', () => {
    expect(production.chart.rancher.caChecksum).toBe('');
    expect(production.valuesFile).toContain('# CATTLE_CA_CHECKSUM: "" (empty)\n');
    expect(production.documents.filter((doc) => doc.kind === 'Secret')).toEqual([]);
    expect(production.stderr).toBe('');
  });

  test('staging: only the environment value changes, and synth warns that agents have nothing to pin, naming the staging root', () => {
    const staging = synth('staging');
    expect(staging.documents[0].spec.source.helm.valuesObject).toEqual({
      ...production.documents[0].spec.source.helm.valuesObject,
      letsEncrypt: { email: 'ops@example.com', environment: 'staging', ingress: { class: 'nginx' } },
    });
    expect(staging.stderr).toMatch(/^cdk8s-pki: warning: rancher-letsencrypt\/rancher: environment: Let's Encrypt staging certificates chain to roots no client trusts.*\(STAGING\) Pretend Pear X1/);
    expect(walkThrough('rancher-letsencrypt')).toContain(`\n${staging.stderr}`);
  });

  test('the walk-through shows main.ts whole', () => {
    expect(showsWhole('rancher-letsencrypt', 'main.ts')).toBe(true);
  });
});
