import * as fs from 'node:fs';
import * as path from 'node:path';

const EXAMPLES = path.resolve(__dirname, '../../examples');

/** The walk-through of an example (examples/<name>/README.md). */
export function walkThrough(example: string): string {
  return fs.readFileSync(path.join(EXAMPLES, example, 'README.md'), 'utf8');
}

/** Whether the walk-through shows a file of the example whole, as a ```ts block: the block is the file. */
export function showsWhole(example: string, file: string): boolean {
  const source = fs.readFileSync(path.join(EXAMPLES, example, file), 'utf8');
  return walkThrough(example).includes(`\`\`\`ts\n${source}\`\`\`\n`);
}
