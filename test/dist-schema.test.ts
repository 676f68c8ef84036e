import { synthApp } from '../constructs';
import { stringify } from 'yaml';
import { expectValidManifests, registerCustomResourceDefinitions, validateManifest } from './support/kubernetes-schema';
import { tempDir } from './support/programs';
import { synthReferenceCluster } from './support/reference-cluster';

// Synthesized once, when the tests are collected, so that each chart gets a test of its own.
// The node review files (static Pods, KubeletConfiguration) are checked with the charts: they are the same objects.
const { app } = synthReferenceCluster();
const charts = Object.entries(synthApp(app))
  .filter((entry): entry is [string, Record<string, any>[]] => Array.isArray(entry[1]))
  .map(([id, documents]) => ({ id, documents }));

describe('every document the example app synthesizes for the reference cluster', () => {
  test.each(charts.map((chart) => [chart.id, chart.documents] as const))('chart %s validates against the Kubernetes schemas', (_id, documents) => {
    expect(documents.length).toBeGreaterThan(0);
    expectValidManifests(documents);
  });

  test('covers the kinds the project writes today, so the check above is not vacuous', () => {
    const kinds = new Set(charts.flatMap((chart) => chart.documents.map((doc) => `${doc.apiVersion} ${doc.kind}`)));
    expect([...kinds]).toEqual(expect.arrayContaining(['v1 ConfigMap', 'v1 Pod', 'kubelet.config.k8s.io/v1beta1 KubeletConfiguration']));
  });
});

describe('the validator rejects what the API server (with strict field validation) would', () => {
  const validPod = () => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
  });

  test('a well-formed Pod passes (the control for the cases below)', () => {
    expect(validateManifest(validPod())).toEqual([]);
  });

  test('a Pod with misspelled fields fails, naming the document and the path of each', () => {
    const { metadata, spec, ...rest } = validPod();
    const pod = { ...rest, metdata: metadata, spec: { ...spec, containers: [{ ...spec.containers[0], imagePullPolicy: 'IfNotPresent', imagePulPolicy: 'Always' }] } };
    expect(validateManifest(pod)).toEqual(['Pod (unnamed): metdata: unknown field', 'Pod (unnamed): spec.containers[0].imagePulPolicy: unknown field']);

    const { containers, ...specRest } = spec;
    expect(validateManifest({ ...validPod(), spec: { ...specRest, containres: containers } })).toEqual([
      'Pod default/web: spec.containers: required field is missing',
      'Pod default/web: spec.containres: unknown field',
    ]);
  });

  test('a Pod with a wrong type or an invalid enum value fails', () => {
    const pod = validPod();
    pod.spec.containers[0].ports[0].containerPort = '80' as unknown as number;
    Object.assign(pod.spec.containers[0], { imagePullPolicy: 'Sometimes' });
    expect(validateManifest(pod)).toEqual([
      'Pod default/web: spec.containers[0].imagePullPolicy: must be one of "Always", "IfNotPresent", "Never"',
      'Pod default/web: spec.containers[0].ports[0].containerPort: must be integer',
    ]);
  });

  test('a Secret with a non-string data value fails', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: 'kube-system' }, type: 'Opaque', data: { token: 12345 } };
    expect(validateManifest(secret)).toEqual(['Secret kube-system/token: data.token: must be string']);
    expect(validateManifest({ ...secret, data: { token: Buffer.from('12345').toString('base64') } })).toEqual([]);
  });

  test('an unknown apiVersion or kind fails rather than passing unchecked', () => {
    expect(validateManifest({ apiVersion: 'acme.cert-manager.io/v1', kind: 'Order', metadata: { name: 'etcd', namespace: 'kube-system' }, spec: {} })).toEqual([
      'Order kube-system/etcd: no schema for apiVersion acme.cert-manager.io/v1 kind Order: neither a built-in kind nor a registered one (register its CRD in test/support/kubernetes-schema.ts)',
    ]);
    // A kind of the wrong group, and a type that is part of a resource rather than a resource.
    expect(validateManifest({ apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x' } })).toHaveLength(1);
    expect(validateManifest({ apiVersion: 'v1', kind: 'PodSpec', containers: [] })).toHaveLength(1);
    expect(validateManifest({ kind: 'Pod' })).toEqual(['Pod (unnamed): apiVersion and kind must both be strings']);
  });

  test('a KubeletConfiguration with an unknown field or a wrong type fails (the schema in test/support/schemas)', () => {
    const synthesized = charts.flatMap((chart) => chart.documents).find((doc) => doc.kind === 'KubeletConfiguration')!;
    expect(validateManifest(synthesized)).toEqual([]);
    expect(validateManifest({ ...synthesized, staticPodPth: '/etc/kubernetes/manifests' })).toEqual(['KubeletConfiguration (unnamed): staticPodPth: unknown field']);
    expect(validateManifest({ ...synthesized, authentication: { ...synthesized.authentication, x509: { clientCAFile: '/ca.crt', clientCaFile: '/ca.crt' } } })).toEqual([
      'KubeletConfiguration (unnamed): authentication.x509.clientCaFile: unknown field',
    ]);
    expect(validateManifest({ ...synthesized, rotateCertificates: 'true', clusterDNS: '10.96.0.10' })).toEqual([
      'KubeletConfiguration (unnamed): rotateCertificates: must be boolean',
      'KubeletConfiguration (unnamed): clusterDNS: must be array',
    ]);
  });

  test('expectValidManifests fails the test and lists every error of every document', () => {
    const bad = { ...validPod(), spec: { ...validPod().spec, hostNetwork: 'yes' } };
    expect(() => expectValidManifests([validPod(), bad, { apiVersion: 'v1', kind: 'Nothing' }])).toThrow(
      /document 1: Pod default\/web: spec\.hostNetwork: must be boolean[\s\S]*document 2: Nothing \(unnamed\): no schema/,
    );
  });
});

describe('custom resources: a CRD file registers its kinds in one line', () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.test' },
    spec: {
      group: 'example.test',
      names: { kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['size'],
                  properties: {
                    size: { type: 'integer', format: 'int32' },
                    selector: { type: 'object', additionalProperties: { type: 'string' } },
                    config: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
  const widget = (spec: object) => ({ apiVersion: 'example.test/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' }, spec });

  test('before registration a custom resource is an unknown kind; after it, it is checked strictly', () => {
    expect(validateManifest(widget({ size: 3 }))).toHaveLength(1);

    const tmp = tempDir();
    try {
      // A vendor's CRD file, as it would be committed: several YAML documents.
      registerCustomResourceDefinitions(tmp.file('widgets.crds.yaml', `${stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } })}---\n${stringify(crd)}`));
    } finally {
      tmp.cleanup();
    }

    expect(validateManifest(widget({ size: 3, selector: { app: 'web' }, config: { anything: { goes: [1] } } }))).toEqual([]);
    expect(validateManifest(widget({ sise: 3, selector: { app: 1 } }))).toEqual([
      'Widget default/w: spec.size: required field is missing',
      'Widget default/w: spec.sise: unknown field',
      'Widget default/w: spec.selector.app: must be string',
    ]);
    expect(validateManifest({ ...widget({ size: 3 }), status: {} })).toEqual(['Widget default/w: status: unknown field']);
    // metadata, which the CRD schema leaves out, is checked as ObjectMeta.
    expect(validateManifest({ ...widget({ size: 3 }), metadata: { name: 'w', labels: { app: 3 }, lables: {} } })).toEqual([
      'Widget w: metadata.labels.app: must be string',
      'Widget w: metadata.lables: unknown field',
    ]);
  });
});
