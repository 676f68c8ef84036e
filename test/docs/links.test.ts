import * as fs from 'node:fs';
import * as path from 'node:path';

// Every relative link of the documentation points to a file that exists and, with a #fragment, to a heading of
// that file: the guide is split over README.md, docs/ and the examples' walk-throughs, and a moved section must
// not leave a link behind. External links (a scheme such as https:) are not followed.
const ROOT = path.resolve(__dirname, '../..');

/** README.md, every Markdown file under docs/ but the generated API reference, and the examples' READMEs. */
function documents(): string[] {
  const docs = fs.readdirSync(path.join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md') && !f.startsWith('api' + path.sep));
  const examples = fs.readdirSync(path.join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' }).filter((f) => path.basename(f) === 'README.md' && !f.split(path.sep).includes('node_modules'));
  return ['README.md', ...docs.map((f) => path.join('docs', f)), ...examples.map((f) => path.join('examples', f))];
}

/** The Markdown outside fenced code blocks and inline code, where a bracket is text rather than a link. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The link targets of a document: inline links and images, `[text](target)` and `[text](target "title")`. */
function linkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
}

/** The anchors GitHub gives a document's headings: lower-cased, punctuation dropped, spaces as -, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.*?)\s*#*\s*$/gm)) {
    const plain = heading.replace(/`([^`]*)`/g, '$1').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = plain.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Why `target`, linked from `document`, does not resolve; undefined when it does or is not a relative link. */
function brokenLink(document: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  const [file, fragment] = target.split('#', 2);
  const resolved = file === '' ? path.join(ROOT, document) : path.resolve(path.dirname(path.join(ROOT, document)), decodeURIComponent(file));
  if (!fs.existsSync(resolved)) return `${document}: ${target}: no such file`;
  if (fragment === undefined || fragment === '' || fs.statSync(resolved).isDirectory() || !resolved.endsWith('.md')) return undefined;
  return headingAnchors(fs.readFileSync(resolved, 'utf8')).has(decodeURIComponent(fragment)) ? undefined : `${document}: ${target}: no heading #${fragment}`;
}

describe('the relative links of the documentation', () => {
  const linked = documents().map((document) => ({ document, targets: linkTargets(fs.readFileSync(path.join(ROOT, document), 'utf8')) }));

  test('are there to check: the README links into docs/, and docs/ links back', () => {
    const readme = linked.find((d) => d.document === 'README.md')!;
    expect(readme.targets).toEqual(expect.arrayContaining(['docs/state.md', 'docs/troubleshooting.md']));
    expect(linked.filter((d) => d.document.startsWith('docs' + path.sep)).flatMap((d) => d.targets).length).toBeGreaterThan(0);
  });

  test('each resolves to an existing file and, with a #fragment, to one of its headings', () => {
    expect(linked.flatMap(({ document, targets }) => targets.map((t) => brokenLink(document, t)).filter((b) => b !== undefined))).toEqual([]);
  });

  test('the check finds a missing file and a missing heading, and ignores links inside code', () => {
    const sample = '# Día 2: plan `renew`\n## Rancher\'s agents and CATTLE_CA_CHECKSUM\n## Rancher\'s agents and CATTLE_CA_CHECKSUM\n[a](docs/none.md) `[b](x.md)`\n```\n[c](y.md)\n```\n[d](#día-2-plan-renew)';
    expect(linkTargets(sample)).toEqual(['docs/none.md', '#día-2-plan-renew']);
    expect([...headingAnchors(sample)]).toEqual(['día-2-plan-renew', 'ranchers-agents-and-cattle_ca_checksum', 'ranchers-agents-and-cattle_ca_checksum-1']);
    expect(brokenLink('README.md', 'docs/none.md')).toBe('README.md: docs/none.md: no such file');
    expect(brokenLink('README.md', 'docs/state.md#no-such-heading')).toBe('README.md: docs/state.md#no-such-heading: no heading #no-such-heading');
    expect(brokenLink('README.md', 'https://cdk8s.io')).toBeUndefined();
  });
});
