// The list table against the `table` package laying out the whole table at once, as `cdk8s-pki list` did.
import { getBorderCharacters, table } from 'table';
import { listTable } from '../../src/report/list-table';

const HEADER = ['SLOT', 'CA', 'ISSUER', 'KEY', 'EXPIRES', 'LEFT', 'STATUS'];
const CAPS = [40, 2, 18, 13, 10, 6, 19];

function wholeTable(rows: string[][]): string {
  const widths = HEADER.map((h, i) => Math.min(CAPS[i], Math.max(h.length, ...rows.map((r) => r[i].length))));
  return table([HEADER, ...rows], {
    border: getBorderCharacters('void'),
    columnDefault: { paddingLeft: 0, paddingRight: 2, wrapWord: true },
    columns: widths.map((width, i) => ({ width, paddingRight: i === widths.length - 1 ? 0 : 2 })),
    drawHorizontalLine: () => false,
  })
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

const row = (slot: string, overrides: Partial<Record<number, string>> = {}) => HEADER.map((_, i) => overrides[i] ?? [slot, '', 'kubernetes', 'ecdsa-p256 #1', '2027-12-01', '364d', 'ok'][i]);

describe('cdk8s-pki list table', () => {
  test.each<[string, string[][]]>([
    ['short rows', [row('app/ca', { 1: 'CA', 2: 'kubernetes-ca' }), row('app/web')]],
    ['an empty last cell and an empty middle one', [row('app/a', { 6: '' }), row('app/b', { 2: '' })]],
    [
      'cells longer than their cap wrap',
      [row('c/pki/a-very-long-slot-name-that-is-longer-than-forty-characters/x', { 2: 'an issuer with a long name', 6: 'renewal due, renewal requested' }), row('c/pki/worker-1/kubelet')],
    ],
    ['non-ASCII and wide characters', [row('app/ünïcode', { 2: 'CA 証明書 authority' }), row('app/b')]],
    ['many rows', Array.from({ length: 300 }, (_, i) => row(`c/pki/worker-${i + 1}/kubelet`, i % 97 === 0 ? { 6: 'EXPIRED, renew requested' } : {}))],
  ])('%s: the same text as the table package', (_, rows) => {
    expect(listTable(HEADER, rows, CAPS)).toBe(wholeTable(rows));
  });
});
