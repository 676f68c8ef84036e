/**
 * Small JSON documents kept beside the keys (node file plans, Secret plans, sealed ciphertext, Rancher's
 * recorded hostname): `<name>.doc.json`, staged only when the content changes.
 */
import stableStringify from 'fast-json-stable-stringify';
import { SpecError, StateError } from '../engine/errors';
import { StateContext } from './context';
import { documentFileName, isStateName, parseJson } from './records';

/**
 * Checks a document read back, throwing (any error) when it does not have the shape its owner wrote; the
 * state turns that into a StateError naming the file. Owners with a JSON Schema pass `checkSchema` bound to it.
 */
export type DocumentCheck<T> = (document: unknown) => T;

const ADVICE = 'restore it from a backup or remove it to have synth write it again';

function checkName(name: string): void {
  if (!isStateName(name)) throw new SpecError('name', `"${name}" is not a valid state name`);
}

export function putDocument(ctx: StateContext, name: string, document: unknown): void {
  checkName(name);
  if (document === null || typeof document !== 'object') throw new SpecError('document', `a state document is a JSON object or array (got ${document === null ? 'null' : typeof document})`);
  const data = Buffer.from(`${stableStringify(document)}\n`);
  const file = documentFileName(name);
  const current = ctx.txn.read(file);
  if (!current?.equals(data)) ctx.txn.stage(name, file, data, false, [current ? 'plan changed' : 'new plan']);
}

/** The document `name`, or undefined; a document that is not JSON, not an object, or fails `check` is a StateError. */
export function readDocument<T>(ctx: StateContext, name: string, check?: DocumentCheck<T>): T | undefined {
  checkName(name);
  const fileName = documentFileName(name);
  const data = ctx.txn.read(fileName);
  if (!data) return undefined;
  const file = ctx.txn.store.locate(fileName);
  const document = parseJson(data, file, ADVICE);
  if (document === null || typeof document !== 'object') throw new StateError(`${file} is corrupt (not a JSON object); ${ADVICE}`);
  if (!check) return document as T;
  try {
    return check(document);
  } catch (err) {
    // The owner's message names a field; a SpecError's reason never quotes the value of a state document here.
    const reason = err instanceof SpecError ? `${err.field ? `${err.field}: ` : ''}${err.reason.replace(/"[^"]*"/g, '…')}` : 'unexpected content';
    throw new StateError(`${file} is corrupt (${reason}); ${ADVICE}`);
  }
}

/** Names of the documents under `prefix/`. */
export function documentNames(ctx: StateContext, prefix: string): string[] {
  return ctx.txn
    .names()
    .filter((n) => n.startsWith(`${prefix}/`) && n.endsWith('.doc.json'))
    .map((n) => n.slice(0, -'.doc.json'.length))
    .sort();
}
