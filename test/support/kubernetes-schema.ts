// Validates synthesized manifests against Kubernetes API schemas, strictly: a misspelled or unknown field is an
// error, as it is for `kubectl apply` (server-side field validation "Strict"), not silently dropped.
//
// Where each kind's schema comes from:
// - built-in kinds (v1 Pod, apps/v1 Deployment, ...): the kubernetes-models package (Kubernetes v1.33 OpenAPI). Its
//   compiled validators check types, required fields, enums and formats but accept unknown fields, so unknown fields
//   are checked here against the package's type declarations, generated from the same OpenAPI definitions;
// - kinds with no OpenAPI schema upstream (KubeletConfiguration): a JSON Schema file under ./schemas;
// - custom resources: the openAPIV3Schema of their CustomResourceDefinition, see registerCustomResourceDefinitions.
// A document of any other apiVersion/kind is an error, so a new kind must bring its schema rather than slip through.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { ErrorObject } from 'ajv';
import * as ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import kubeletConfigurationSchema from './schemas/kubelet-config-v1beta1.schema.json';

type Path = readonly (string | number)[];
interface Problem {
  path: Path;
  message: string;
}
type Check = (doc: Record<string, unknown>) => Problem[];

/** Checks by `${apiVersion} ${kind}`, for the kinds that are not built in. */
const registered = new Map<string, Check>();

// allErrors reports every problem of a document at once. Formats are not checked for custom schemas: CRDs use
// Kubernetes formats (int32, byte, quantity, ...) that Ajv does not know, and the types are what matters here.
// Unknown keywords stay errors (strictSchema); type-less keywords are normal in CRD schemas (strictTypes off).
const ajv = new Ajv({ allErrors: true, strictSchema: true, strictTypes: false, strictTuples: false, validateFormats: false });
ajv.addVocabulary([
  'example',
  'externalDocs',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
]);

/** Registers a JSON Schema (draft-07, as Ajv reads it) as the schema of every document of `apiVersion` and `kind`. */
export function registerJsonSchema(apiVersion: string, kind: string, schema: object): void {
  const validate = ajv.compile(schema);
  registered.set(`${apiVersion} ${kind}`, (doc) => (validate(doc) ? [] : (validate.errors ?? []).map(fromAjvError)));
}

/**
 * Registers the custom resources of every CustomResourceDefinition in a multi-document YAML file, as vendors ship
 * them (cert-manager.crds.yaml, say), one schema per served version; other documents in the file are skipped.
 */
export function registerCustomResourceDefinitions(file: string): void {
  for (const document of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
    const crd = document.toJS() as unknown;
    if (isObject(crd) && crd.kind === 'CustomResourceDefinition') registerCustomResourceDefinition(crd);
  }
}

/** Registers the custom resources of one apiextensions.k8s.io/v1 CustomResourceDefinition object. */
export function registerCustomResourceDefinition(crd: Record<string, unknown>): void {
  const errors = validateManifest(crd);
  if (errors.length > 0) throw new Error(`invalid CustomResourceDefinition:\n${errors.join('\n')}`);
  const spec = crd.spec as { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: object } }[] };
  for (const version of spec.versions) {
    if (!version.served) continue;
    const schema = version.schema?.openAPIV3Schema;
    if (!schema) throw new Error(`CustomResourceDefinition ${spec.names.kind} ${version.name} has no openAPIV3Schema`);
    const validate = ajv.compile(customResourceSchema(schema));
    registered.set(`${spec.group}/${version.name} ${spec.names.kind}`, (doc) => [
      ...(validate(doc) ? [] : (validate.errors ?? []).map(fromAjvError)),
      ...objectMetaErrors(doc.metadata),
    ]);
  }
}

/** ObjectMeta is one type in every kind; a CRD schema leaves it out, so it is checked as a ConfigMap's metadata. */
function objectMetaErrors(metadata: unknown): Problem[] {
  if (metadata === undefined) return [];
  return builtInCheck('v1', 'ConfigMap')!({ apiVersion: 'v1', kind: 'ConfigMap', metadata });
}

/**
 * A CRD's structural schema made strict: objects that list their properties get additionalProperties false (the API
 * server prunes such fields, and rejects them under strict field validation), unless marked to keep unknown fields.
 * apiVersion, kind and metadata are implicit at the root and in embedded resources.
 */
function customResourceSchema(openAPIV3Schema: object): object {
  const strict = (node: unknown, isResource: boolean): unknown => {
    if (Array.isArray(node)) return node.map((item) => strict(item, false));
    if (!isObject(node)) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'properties' && isObject(value)) {
        out.properties = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, strict(sub, isObject(sub) && sub['x-kubernetes-embedded-resource'] === true)]));
      } else if (key === 'enum' || key === 'default' || key === 'example' || key === 'required' || key === 'x-kubernetes-validations') {
        out[key] = value; // values, not schemas
      } else {
        out[key] = strict(value, false);
      }
    }
    if (isResource) {
      const properties = (out.properties ?? {}) as Record<string, unknown>;
      out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...properties };
    }
    const keepsUnknown = node['x-kubernetes-preserve-unknown-fields'] === true;
    if (out.properties !== undefined && out.additionalProperties === undefined && !keepsUnknown) out.additionalProperties = false;
    return out;
  };
  return strict(openAPIV3Schema, true) as object;
}

// Kinds outside the built-in API. A custom resource's CRD file, committed under test/support/crds/, takes one line:
//   registerCustomResourceDefinitions(path.join(__dirname, 'crds', 'cert-manager.crds.yaml'));
registerJsonSchema('kubelet.config.k8s.io/v1beta1', 'KubeletConfiguration', kubeletConfigurationSchema);

/**
 * Every schema error of one manifest, each naming the document (kind and namespace/name) and the JSON path, e.g.
 * `Pod kube-system/etcd: spec.containers[0].imagePullPolicy: must be one of "Always", "IfNotPresent", "Never"`.
 * An empty list means the document is valid.
 */
export function validateManifest(doc: unknown): string[] {
  if (!isObject(doc)) return [`document: not an object (${JSON.stringify(doc)})`];
  const label = documentLabel(doc);
  const { apiVersion, kind } = doc;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return [`${label}: apiVersion and kind must both be strings`];
  const check = registered.get(`${apiVersion} ${kind}`) ?? builtInCheck(apiVersion, kind);
  if (!check) {
    return [`${label}: no schema for apiVersion ${apiVersion} kind ${kind}: neither a built-in kind nor a registered one (register its CRD in test/support/kubernetes-schema.ts)`];
  }
  return check(doc).map((problem) => `${label}: ${formatPath(problem.path)}: ${problem.message}`);
}

/** Asserts that every document validates, listing all errors of all documents when some do not. */
export function expectValidManifests(docs: unknown[]): void {
  expect(docs.flatMap((doc, index) => validateManifest(doc).map((error) => `document ${index}: ${error}`))).toEqual([]);
}

// --- built-in kinds (kubernetes-models) --------------------------------------------------------------------------

interface KubernetesModel {
  apiVersion?: string;
  kind?: string;
  new (data: unknown): { validate(): void };
}

const builtInChecks = new Map<string, Check | undefined>();

function builtInCheck(apiVersion: string, kind: string): Check | undefined {
  const key = `${apiVersion} ${kind}`;
  if (!builtInChecks.has(key)) builtInChecks.set(key, loadBuiltInCheck(apiVersion, kind));
  return builtInChecks.get(key);
}

function loadBuiltInCheck(apiVersion: string, kind: string): Check | undefined {
  // The package has one module per type, at kubernetes-models/<group>/<version>/<Kind> (core: v1/<Kind>).
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  const modulePath = `kubernetes-models/${apiVersion}/${kind}`;
  let model: KubernetesModel | undefined;
  try {
    model = (require(modulePath) as Record<string, KubernetesModel>)[kind];
  } catch {
    return undefined; // no such group, version or type in the package
  }
  // Types that are not top-level resources (v1/PodSpec, ...) have no apiVersion/kind of their own.
  if (!model || model.apiVersion !== apiVersion || model.kind !== kind) return undefined;
  const declarations = require.resolve(modulePath).replace(/\.js$/, '.d.ts');
  return (doc) => [...schemaErrors(model, doc), ...unknownFields(declarations, `I${kind}`, doc)];
}

function schemaErrors(model: KubernetesModel, doc: Record<string, unknown>): Problem[] {
  try {
    new model(doc).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: ErrorObject[] }).errors;
    if (!Array.isArray(errors)) throw error;
    return errors.map(fromAjvError);
  }
}

// The package's .d.ts files declare every field of every type, with maps as index signatures; the TypeScript
// checker reads them. One program grows as kinds are met, reusing the files it has already parsed.
let program: ts.Program | undefined;
const sourceFiles = new Map<string, ts.SourceFile | undefined>();
const compilerOptions: ts.CompilerOptions = { noEmit: true, lib: ['lib.es5.d.ts'], types: [], skipLibCheck: true };
const host = ts.createCompilerHost(compilerOptions);
const readSourceFile = host.getSourceFile.bind(host);
host.getSourceFile = (fileName, languageVersion, ...rest) => {
  if (!sourceFiles.has(fileName)) sourceFiles.set(fileName, readSourceFile(fileName, languageVersion, ...rest));
  return sourceFiles.get(fileName);
};

function declaredType(declarationFile: string, interfaceName: string): { checker: ts.TypeChecker; type: ts.Type } {
  if (!program?.getSourceFile(declarationFile)) {
    program = ts.createProgram([...(program?.getRootFileNames() ?? []), declarationFile], compilerOptions, host, program);
  }
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(declarationFile)!)!;
  const symbol = checker.getExportsOfModule(moduleSymbol).find((s) => s.name === interfaceName);
  if (!symbol) throw new Error(`${declarationFile} declares no ${interfaceName}`);
  return { checker, type: checker.getDeclaredTypeOfSymbol(symbol) };
}

function unknownFields(declarationFile: string, interfaceName: string, doc: Record<string, unknown>): Problem[] {
  const { checker, type } = declaredType(declarationFile, interfaceName);
  const walk = (value: unknown, declared: ts.Type, at: Path): Problem[] => {
    const t = checker.getNonNullableType(declared);
    if (Array.isArray(value)) {
      const element = checker.isArrayType(t) ? checker.getTypeArguments(t as ts.TypeReference)[0] : undefined;
      return element ? value.flatMap((item, i) => walk(item, element, [...at, i])) : [];
    }
    if (!isObject(value)) return [];
    // A type mismatch (an object where a string belongs, say) is the compiled validator's to report.
    const shape = (t.isUnion() ? t.types : [t]).find((member) => member.flags & ts.TypeFlags.Object && !checker.isArrayType(member));
    if (!shape) return [];
    const mapValue = checker.getIndexTypeOfType(shape, ts.IndexKind.String);
    if (mapValue) return Object.entries(value).flatMap(([key, item]) => walk(item, mapValue, [...at, key]));
    const fields = checker.getPropertiesOfType(shape);
    if (fields.length === 0) return []; // free-form JSON, such as managedFields[].fieldsV1
    return Object.entries(value).flatMap(([key, item]) => {
      const field = fields.find((f) => f.name === key);
      return field ? walk(item, checker.getTypeOfSymbol(field), [...at, key]) : [{ path: [...at, key], message: 'unknown field' }];
    });
  };
  return walk(doc, type, []);
}

// --- formatting ----------------------------------------------------------------------------------------------------

function fromAjvError(error: ErrorObject): Problem {
  const at: Path = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: [...at, String(params.missingProperty)], message: 'required field is missing' };
    case 'additionalProperties':
      return { path: [...at, String(params.additionalProperty)], message: 'unknown field' };
    case 'type':
      return { path: at, message: `must be ${String(params.type)}` };
    case 'enum':
      return { path: at, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'const':
      return { path: at, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'format':
      return { path: at, message: `must be a valid ${String(params.format)}` };
    default:
      // The package's compiled validators carry no messages; describe the failed keyword by its parameters.
      return { path: at, message: error.message ?? `fails ${error.keyword} ${JSON.stringify(params)}` };
  }
}

function formatPath(at: Path): string {
  if (at.length === 0) return '(document)';
  return at
    .map((segment, i) => {
      if (typeof segment === 'number' || /^[0-9]+$/.test(segment)) return `[${segment}]`;
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) return i === 0 ? segment : `.${segment}`;
      return `[${JSON.stringify(segment)}]`;
    })
    .join('');
}

function documentLabel(doc: Record<string, unknown>): string {
  const kind = typeof doc.kind === 'string' ? doc.kind : '(no kind)';
  const metadata = isObject(doc.metadata) ? doc.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '(unnamed)';
  return typeof metadata.namespace === 'string' ? `${kind} ${metadata.namespace}/${name}` : `${kind} ${name}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Registered last: checking a CRD reads the built-in schemas, whose state is declared above.
registerCustomResourceDefinitions(path.join(__dirname, 'crds', 'cert-manager.crds.yaml'));
registerCustomResourceDefinitions(path.join(__dirname, 'crds', 'trust-manager.crds.yaml'));
registerCustomResourceDefinitions(path.join(__dirname, 'crds', 'argo-cd.crds.yaml'));
registerCustomResourceDefinitions(path.join(__dirname, 'crds', 'sealed-secrets.crds.yaml'));
