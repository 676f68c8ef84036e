// Runs an example of this repository from its sources, as `cdk8s synth` in the example's directory does
// (its cdk8s.yaml: `node -r ../from-source.js main.ts`): TypeScript through ts-node, transpile-only, and
// `cdk8s-pki` resolved to the construct library here, where a user's app resolves it to the installed package.
const Module = require('node:module');
const path = require('node:path');

require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, '..', 'tsconfig.json') });

const LIBRARY = path.join(__dirname, '..', 'constructs', 'index.ts');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, request === 'cdk8s-pki' ? LIBRARY : request, ...rest);
};
