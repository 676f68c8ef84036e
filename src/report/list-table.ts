/**
 * The certificate table of `cdk8s-pki list`: no border, two spaces between columns, each column as wide as its
 * widest cell up to a cap, a longer cell wrapped within the cap (at word boundaries), trailing spaces cut.
 */
import { getBorderCharacters, table, TableUserConfig } from 'table';

/** What needs no measuring: printable ASCII, one column per character, no line break. */
const PLAIN = /^[\x20-\x7e]*$/;

/**
 * The table's lines, each ending in a newline. The `table` package lays out the rows that wrap; a row whose
 * cells are all plain and fit is padded here, as `table` would pad it: `table` measures every cell with
 * regular expressions, seconds for the thousands of rows of a large cluster's state.
 */
export function listTable(header: string[], rows: string[][], caps: number[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.min(caps[i], all.reduce((widest, row) => Math.max(widest, row[i].length), 0)));
  const last = widths.length - 1;
  const config: TableUserConfig = {
    border: getBorderCharacters('void'),
    columnDefault: { paddingLeft: 0, paddingRight: 2, wrapWord: true },
    columns: widths.map((width, i) => ({ width, paddingRight: i === last ? 0 : 2 })),
    drawHorizontalLine: () => false,
  };
  const fits = (row: string[]) => row.every((cell, i) => cell.length <= widths[i] && PLAIN.test(cell));
  const lines = all.map((row) => (fits(row) ? `${row.map((cell, i) => (i === last ? cell : `${cell.padEnd(widths[i])}  `)).join('')}\n` : table([row], config)));
  return lines
    .join('')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}
