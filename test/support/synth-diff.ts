// What a pull request changes in a synth's output, for a reviewer to read: per manifest, the objects and keys that
// differ; per text, a unified line diff; each certificate shown as its SHA-256 fingerprint (as PKI.md prints it)
// rather than its PEM or base64 body.
import { X509Certificate } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { diffLinesUnified } from 'jest-diff';
import { stringify } from 'yaml';

/** A file of a synth as `synthApp` returns it: a manifest's objects, or a text. */
export type SynthFile = unknown[] | string;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+?-----END CERTIFICATE-----/g;
/** Base64 of a PEM text ("-----BEGIN" encodes to this from the first byte on), as kubeconfigs embed bundles. */
const BASE64_PEM = /LS0tLS1CRUdJTi[A-Za-z0-9+/]*={0,2}/g;

const fingerprints = (pem: string) => (pem.match(PEM_CERTIFICATE) ?? []).map((block) => new X509Certificate(block).fingerprint256);

/** `text` with every certificate, PEM or base64-encoded PEM, replaced by its SHA-256 fingerprint. */
function abbreviateCertificates(text: string): string {
  return text
    .replace(PEM_CERTIFICATE, (pem) => `<certificate SHA-256 ${fingerprints(pem)[0]}>`)
    .replace(BASE64_PEM, (base64) => `<base64 of certificates SHA-256 ${fingerprints(Buffer.from(base64, 'base64').toString('utf8')).join(', ')}>`);
}

function abbreviated(value: unknown): unknown {
  if (typeof value === 'string') return abbreviateCertificates(value);
  if (Array.isArray(value)) return value.map(abbreviated);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, abbreviated(v)]));
  return value;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A synth's files as a reviewer reads them: a manifest as the YAML documents cdk8s writes, a text as it is; every
 * certificate in them as its SHA-256 fingerprint.
 */
export function reviewTexts(files: Record<string, SynthFile>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([file, content]) => [
    file,
    typeof content === 'string' ? abbreviateCertificates(content) : content.map((doc) => stringify(abbreviated(doc), { lineWidth: 0 })).join('---\n'),
  ]));
}

const plain = (line: string) => line;
/** `@@` hunks with one line of context, no colours. */
const UNIFIED: Parameters<typeof diffLinesUnified>[2] = {
  omitAnnotationLines: true,
  expand: false,
  contextLines: 1,
  aColor: plain,
  bColor: plain,
  commonColor: plain,
  patchColor: plain,
  changeColor: plain,
};

const lineDiff = (from: string[], to: string[]) => diffLinesUnified(from, to, UNIFIED).split('\n');

/** An object's name in a manifest: its kind, namespace and name (the identity Kubernetes gives it). */
function identity(doc: unknown): string {
  const metadata = isRecord(doc) && isRecord(doc.metadata) ? doc.metadata : {};
  const name = [metadata.namespace, metadata.name].filter((part) => typeof part === 'string').join('/');
  return [isRecord(doc) ? doc.kind : undefined, name].filter((part) => typeof part === 'string' && part !== '').join(' ');
}

const pathTo = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : /^[A-Za-z_][\w-]*$/.test(key) ? `${path}${path ? '.' : ''}${key}` : `${path}['${key}']`);
const shown = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
const listed = (value: unknown) => (Array.isArray(value) ? value.map(shown) : typeof value === 'string' ? value.split('\n') : undefined);

/**
 * The lines saying how `to` differs from `from` at `path`: `+ path: value` added, `- path: value` removed,
 * `~ path: old → new` changed; a multi-line string or a list whose length changed as a line diff of its lines or
 * items below `~ path:`.
 */
function keyChanges(path: string, from: unknown, to: unknown): string[] {
  if (isDeepStrictEqual(from, to)) return [];
  if (isRecord(from) && isRecord(to)) return [...new Set([...Object.keys(to), ...Object.keys(from)])].flatMap((key) => keyChanges(pathTo(path, key), from[key], to[key]));
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length) return from.flatMap((item, i) => keyChanges(pathTo(path, i), item, to[i]));
  if (from === undefined) return [`+ ${path}: ${shown(to)}`];
  if (to === undefined) return [`- ${path}: ${shown(from)}`];
  const [fromLines, toLines] = [listed(from), listed(to)];
  if (fromLines && toLines && (Array.isArray(from) || fromLines.length > 1 || toLines.length > 1)) return [`~ ${path}:`, ...lineDiff(fromLines, toLines).map((line) => `    ${line}`)];
  return [`~ ${path}: ${shown(from)} → ${shown(to)}`];
}

/** How a manifest's objects differ: each object added, removed or changed by its identity, with its changed keys. */
function objectChanges(from: unknown[], to: unknown[]): string[] {
  const [before, after] = [new Map(from.map((doc) => [identity(doc), doc])), new Map(to.map((doc) => [identity(doc), doc]))];
  return [...new Set([...after.keys(), ...before.keys()])].flatMap((id) => {
    const [old, now] = [before.get(id), after.get(id)];
    if (old === undefined) return [`+ ${id}`, ...stringify(now, { lineWidth: 0 }).trimEnd().split('\n').map((line) => `+   ${line}`)];
    if (now === undefined) return [`- ${id}`];
    const changes = keyChanges('', old, now);
    return changes.length ? [id, ...changes.map((line) => `  ${line}`.trimEnd())] : [];
  });
}

/**
 * The files that differ between two synths, sorted: a manifest as the objects and keys that differ (in the order
 * of `after`, removed ones last), a text as a unified line diff; certificates as in `reviewTexts`.
 */
export function synthDiff(before: Record<string, SynthFile>, after: Record<string, SynthFile>): Record<string, string> {
  const diffs: Record<string, string> = {};
  for (const file of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const [from, to] = [before[file], after[file]].map(abbreviated) as (SynthFile | undefined)[];
    if (isDeepStrictEqual(from, to)) continue;
    const lines = typeof from === 'string' || typeof to === 'string'
      ? lineDiff(typeof from === 'string' ? from.split('\n') : [], typeof to === 'string' ? to.split('\n') : [])
      : objectChanges(from ?? [], to ?? []);
    diffs[file] = lines.join('\n');
  }
  return diffs;
}
