import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, tempDir } from '../support/programs';

// The API reference is TypeDoc over constructs/index.ts with typedoc.json: validation.notDocumented and
// treatWarningsAsErrors make any public member without a TSDoc comment (or a broken link, an unknown tag) fail the
// build, as `npm run docs` does. The probe shows the same options fail on one undocumented export.
const ROOT = path.resolve(__dirname, '../..');
const TYPEDOC = path.join(ROOT, 'node_modules/typedoc/bin/typedoc');
const MINUTES = 60_000;

/** TypeDoc run in `cwd` with the options file `options`, its output sent to a temporary directory. */
function typedoc(cwd: string, options: string) {
  const out = tempDir('cdk8s-pki-api-docs-');
  try {
    const result = run(process.execPath, [TYPEDOC, '--options', options, '--out', out.dir], { cwd, timeoutMs: 5 * MINUTES });
    // TypeDoc colours its log lines; the escapes are dropped so that the lines read as they print.
    // eslint-disable-next-line no-control-regex
    return { status: result.status, output: (result.stdout + result.stderr).replace(/\x1b\[[0-9;]*m/g, '') };
  } finally {
    out.cleanup();
  }
}

describe('the API reference', () => {
  test('builds from the TSDoc comments without a warning', () => {
    const { status, output } = typedoc(ROOT, path.join(ROOT, 'typedoc.json'));
    expect(output.split('\n').filter((line) => /\[(warning|error)\]/.test(line))).toEqual([]);
    expect(status).toBe(0);
  }, 5 * MINUTES);

  test('the same options fail on an undocumented export', () => {
    const probe = tempDir('cdk8s-pki-api-probe-');
    try {
      const options = { ...JSON.parse(fs.readFileSync(path.join(ROOT, 'typedoc.json'), 'utf8')), entryPoints: ['index.ts'], tsconfig: 'tsconfig.json', intentionallyNotExported: [] };
      probe.file('typedoc.json', JSON.stringify(options));
      probe.file('tsconfig.json', JSON.stringify({ compilerOptions: { strict: true, module: 'commonjs', target: 'ES2022' }, include: ['index.ts'] }));
      probe.file('index.ts', '/** Documented. */\nexport const documented = 1;\nexport const undocumented = 2;\n');
      const { status, output } = typedoc(probe.dir, probe.file('typedoc.json'));
      expect(status).not.toBe(0);
      expect(output.split('\n').filter((line) => line.includes('does not have any documentation'))).toEqual([
        expect.stringMatching(/^\[warning\] undocumented \(Variable\), defined in .*index\.ts, does not have any documentation$/),
      ]);
    } finally {
      probe.cleanup();
    }
  }, 5 * MINUTES);
});
