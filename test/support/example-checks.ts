import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'cdk8s';
import { parse } from 'yaml';
import { RancherIngressTLS } from '../../constructs';
import { exportSecrets } from '../../src/secrets/secret-plan';
import { synthExample } from './example-app';
import { run, runOk, tempDir } from './programs';
import { pemCertificates } from './tls-verify';

export type Document = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; type?: string; data?: Record<string, string>; spec?: any };

/**
 * Synthesizes an example app with a RancherIngressTLS as `cdk8s synth` does (fixed clock, seeded in-memory
 * state, unless `options` say otherwise): what it writes by file, the values file it writes beside the manifests among them, every manifest
 * document, and what it printed on stderr (its warnings). The output directory is removed.
 */
export function synthRancherExample<T extends { readonly rancher: RancherIngressTLS }>(build: (app: App) => T, options: Parameters<typeof synthExample>[1] = {}) {
  let chart!: T;
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const { app, state, files } = synthExample((a) => (chart = build(a)), options);
    try {
      const valuesFile = fs.readFileSync(path.join(app.outdir, chart.rancher.valuesFileName), 'utf8');
      const documents = Object.values(files).filter((content): content is Document[] => Array.isArray(content)).flat();
      return { chart, state, files: { ...files, [chart.rancher.valuesFileName]: valuesFile }, valuesFile, documents, stderr: stderr.mock.calls.map((call) => String(call[0])).join('') };
    } finally {
      fs.rmSync(app.outdir, { recursive: true, force: true });
    }
  } finally {
    stderr.mockRestore();
  }
}

/** The decoded value of `key` in Secret `name` among `documents` (a Secret's manifest, as kubectl applies it). */
export function secretValue(documents: Document[], name: string, key: string): string {
  const secret = documents.find((doc) => doc.kind === 'Secret' && doc.metadata.name === name);
  if (secret?.data?.[key] === undefined) throw new Error(`no Secret ${name} with ${key} among ${documents.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return Buffer.from(secret.data[key], 'base64').toString('utf8');
}

/** The Secrets synth left out, as `cdk8s-pki export-secrets --out DIR` writes them, parsed. */
export function exportedSecrets(state: Parameters<typeof exportSecrets>[0]): Document[] {
  return withExportedSecrets(state, (dir, files) => files.map((file) => parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Document));
}

/** Runs `use` on the directory `cdk8s-pki export-secrets --out DIR` writes, and the files it wrote there; the directory is removed after. */
export function withExportedSecrets<T>(state: Parameters<typeof exportSecrets>[0], use: (dir: string, files: string[]) => T): T {
  const out = tempDir('cdk8s-pki-export-secrets-');
  try {
    const dir = path.join(out.dir, 'secrets');
    return use(dir, exportSecrets(state, dir));
  } finally {
    out.cleanup();
  }
}

/**
 * openssl's verdict on a served chain (tls.crt: the leaf, then intermediates) for `hostname` against cacerts.pem
 * as trust anchors, at `at`, as a TLS server certificate: `<leaf file>: OK`, or openssl's reasons.
 */
export function opensslVerifyServed(tlsCrt: string, cacertsPem: string, hostname: string, at: Date): string {
  const tmp = tempDir('cdk8s-pki-served-');
  try {
    const [leaf, ...intermediates] = pemCertificates(tlsCrt);
    const untrusted = intermediates.length ? ['-untrusted', tmp.file('intermediates.pem', intermediates.join(''))] : [];
    const args = ['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', hostname, '-attime', String(Math.floor(at.getTime() / 1000))];
    const result = run('openssl', [...args, '-CAfile', tmp.file('cacerts.pem', cacertsPem), ...untrusted, tmp.file('leaf.pem', leaf)]);
    return (result.stdout + result.stderr).replaceAll(tmp.dir, '<tmp>').trim();
  } finally {
    tmp.cleanup();
  }
}

/** The subjectAltName of a certificate as openssl prints it ("DNS:rancher.example.internal"). */
export function opensslSubjectAltName(certificatePem: string): string {
  return runOk('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], { input: certificatePem }).split('\n').slice(1).join('\n').trim();
}

/** `sha256sum FILE` of a file holding `content`: what an operator runs on cacerts.pem. */
export function sha256sumOf(content: string): string {
  const tmp = tempDir('cdk8s-pki-sha256sum-');
  try {
    return runOk('sha256sum', [tmp.file('cacerts.pem', content)]).split(' ')[0];
  } finally {
    tmp.cleanup();
  }
}

/** Each document as `<kind> <namespace>/<name>`, in order: what a manifest file holds, at a glance. */
export function objectNames(documents: Document[]): string[] {
  return documents.map((doc) => `${doc.kind} ${doc.metadata.namespace}/${doc.metadata.name}`);
}

/** The Helm values the Argo CD Application among `documents` installs the chart with. */
export function applicationValues(documents: Document[]): unknown {
  return documents.find((doc) => doc.kind === 'Application')!.spec.source.helm.valuesObject;
}
