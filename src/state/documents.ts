/**
 * Small JSON documents kept beside the keys (node file plans, Secret plans, sealed ciphertext, Rancher's
 * recorded hostname): `<name>.doc.json`, staged only when the content changes.
 */
import stableStringify from 'fast-json-stable-stringify';
import { SpecError, StateError } from '../engine/errors';
import { checkSchema, compileSchema } from '../engine/spec';
import { StateContext } from './context';
import { documentFileName, isStateName, parseJson } from './records';

/**
 * Checks a document read back, throwing (any error) when it does not have the shape its owner wrote; the
 * state turns that into a StateError naming the file. Owners with a JSON Schema pass `schemaCheck(schema)`.
 */
export type DocumentCheck<T> = (document: unknown) => T;

/**
 * A check against a JSON Schema (and the schemas its `$ref`s name): errors say the field and the rule, never
 * the value, since a document may hold ciphertext or a key brought as PEM.
 */
export function schemaCheck<T>(schema: object, ...references: { $id: string }[]): DocumentCheck<T> {
  const validate = compileSchema(schema, references);
  return (document) => checkSchema<T>(validate, document, { quoteValues: false });
}

/** What a failed check says: the owner's field and reason, any quoted value masked. */
function checkFailure(err: unknown): string {
  return err instanceof SpecError ? `${err.field ? `${err.field}: ` : ''}${err.reason.replace(/"[^"]*"/g, '…')}` : 'unexpected content';
}

const ADVICE = 'restore it from a backup or remove it to have synth write it again';

function checkName(name: string): void {
  if (!isStateName(name)) throw new SpecError('name', `"${name}" is not a valid state name`);
}

/** The reason a document staged for the first time carries (a node's first plan). */
export const NEW_DOCUMENT = 'new plan';

/** Stages `document` as `name`; with `check`, a document that would not read back is refused before it is staged. */
export function putDocument<T>(ctx: StateContext, name: string, document: T, check?: DocumentCheck<T>): void {
  checkName(name);
  if (document === null || typeof document !== 'object') throw new SpecError('document', `a state document is a JSON object or array (got ${document === null ? 'null' : typeof document})`);
  const text = stableStringify(document);
  const file = documentFileName(name);
  const data = Buffer.from(`${text}\n`);
  const current = ctx.txn.read(file);
  // What the state holds already read back when it was staged (and is checked whenever it is read).
  if (current?.equals(data)) return;
  if (check) {
    try {
      check(JSON.parse(text));
    } catch (err) {
      // A bug in the owner, not bad input: it keeps its stack trace.
      throw new Error(`${ctx.txn.store.locate(file)} would not read back (${checkFailure(err)}); not written`);
    }
  }
  ctx.txn.stage(name, file, data, false, [current ? 'plan changed' : NEW_DOCUMENT]);
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
    throw new StateError(`${file} is corrupt (${checkFailure(err)}); ${ADVICE}`);
  }
}

/** Names of the documents under `prefix/`. */
export function documentNames(ctx: StateContext, prefix: string): string[] {
  return ctx.txn
    .namesUnder(prefix)
    .filter((n) => n.endsWith('.doc.json'))
    .map((n) => n.slice(0, -'.doc.json'.length))
    .sort();
}
