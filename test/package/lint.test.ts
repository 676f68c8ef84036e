import * as path from 'node:path';
import { run } from '../support/programs';

// ESLint itself, with the project's config, on a file given as stdin under a chosen path.
const ROOT = path.resolve(__dirname, '../..');
const ESLINT = path.join(ROOT, 'node_modules/eslint/bin/eslint.js');
const lint = (filename: string, code: string) => run(process.execPath, [ESLINT, '--format', 'json', '--stdin', '--stdin-filename', filename], { input: code, cwd: ROOT });
const problems = (stdout: string): { ruleId: string; line: number }[] => JSON.parse(stdout)[0].messages;

describe('the layering rule', () => {
  test('an engine file importing cdk8s, cdk8s-plus, constructs or the construct library fails lint, one problem per import', () => {
    const code = [
      "import { App } from 'cdk8s';",
      "import * as kplus from 'cdk8s-plus-28';",
      "import { Construct } from 'constructs';",
      "import type { ClusterCA } from '../../constructs/cluster-ca';",
      "import { CertManager } from '../../imports/cert-manager.io';",
      "import { REFERENCE_CLUSTER } from '../../examples/main';",
      "import { SpecError } from '../engine/errors';",
      'export const used = [App, kplus, Construct, CertManager, REFERENCE_CLUSTER, SpecError];',
      'export type Used = ClusterCA;',
      '',
    ].join('\n');
    const result = lint('src/kubeadm/probe.ts', code);
    expect(result.status).toBe(1);
    expect(problems(result.stdout)).toEqual([1, 2, 3, 4, 5, 6].map((line) => expect.objectContaining({ ruleId: '@typescript-eslint/no-restricted-imports', line })));
  });

  test('the same imports are allowed in constructs/', () => {
    const code = "import { App } from 'cdk8s';\nimport { Construct } from 'constructs';\nimport { SpecError } from '../src/engine/errors';\nexport const used = [App, Construct, SpecError];\n";
    const result = lint('constructs/probe.ts', code);
    expect(problems(result.stdout)).toEqual([]);
    expect(result.status).toBe(0);
  });

  test('an unused variable fails lint', () => {
    const result = lint('src/engine/probe.ts', 'export function f(): number {\n  const unused = 1;\n  return 2;\n}\n');
    expect(problems(result.stdout)).toEqual([expect.objectContaining({ ruleId: '@typescript-eslint/no-unused-vars', line: 2 })]);
  });
});
