/**
 * How a schema's validator is made (spec.ts's compileSchema calls it on first use; scripts/compile-schemas.ts uses
 * the same ajv and file names at build time). Not part of the engine's exports.
 */
import type Ajv from 'ajv';
import type { CodeOptions } from 'ajv';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SCHEMA_FORMATS } from './schema-formats';
import type { SchemaValidator } from './spec';

/**
 * The ajv every schema of this library is compiled with, at run time or ahead of time (`code`:
 * scripts/compile-schemas.ts). verbose: errors carry their schema, so an unknown field's message can list the
 * known ones. ajv is loaded here, only when a schema has no validator compiled ahead.
 */
export function newAjv(code?: CodeOptions): Ajv {
  const { default: AjvClass } = require('ajv') as typeof import('ajv');
  return new AjvClass({ allErrors: true, strict: true, verbose: true, formats: SCHEMA_FORMATS, code });
}

/** Where the build writes the validators it compiled ahead: beside the built engine (lib/), never in the sources. */
export const PRECOMPILED_SCHEMA_DIRECTORY = path.join(__dirname, '..', 'generated', 'schemas');

/**
 * The file name of the validator compiled ahead for `schema` and its references: a digest of their content, so a
 * schema edited since the build never meets a stale validator (it is compiled at run time instead).
 */
export function precompiledSchemaFile(schema: object, references: readonly { $id: string }[]): string {
  const sorted = [...references].sort((a, b) => (a.$id < b.$id ? -1 : a.$id > b.$id ? 1 : 0));
  return `${crypto.createHash('sha256').update(JSON.stringify([schema, ...sorted])).digest('hex').slice(0, 32)}.js`;
}

let runtimeAjv: Ajv | undefined;

/** `schema`'s validator: the one the build compiled ahead when there is one, else compiled now by ajv. */
export function loadValidator(schema: object, references: readonly { $id: string }[]): SchemaValidator {
  const precompiled = path.join(PRECOMPILED_SCHEMA_DIRECTORY, precompiledSchemaFile(schema, references));
  if (fs.existsSync(precompiled)) return require(precompiled) as SchemaValidator;
  const ajv = (runtimeAjv ??= newAjv());
  for (const reference of references) if (!ajv.getSchema(reference.$id)) ajv.addSchema(reference);
  return ajv.compile(schema);
}
