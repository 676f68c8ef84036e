// A directory store that SIGKILLs its process part-way through a commit, the way a CI runner or an OOM killer
// would stop `cdk8s synth`:
//   after <n>   before state write n+1 starts (n whole writes on disk)
//   during <n>  inside state write n+1, once its temp file is written and fsynced, before it is renamed
//   list 0      no kill: the name of each state write is printed, in order, before it is made
//   none 0      no kill
import type * as FsModule from 'node:fs';
import { DirectoryStore } from '../../src/state/store';

export const kill = () => process.kill(process.pid, 'SIGKILL');
// The module object itself (not an import binding), so that the store's own calls go through the patches below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const fs: { -readonly [K in keyof typeof FsModule]: (typeof FsModule)[K] } = require('node:fs');

export class DyingStore extends DirectoryStore {
  private writes = 0;

  constructor(
    directory: string,
    private readonly mode: string,
    private readonly count: number,
  ) {
    super(directory);
  }

  write(name: string, data: Buffer, exclusive: boolean): void {
    const n = this.writes++;
    if (this.mode === 'list') process.stdout.write(`${name}\n`);
    if (this.mode === 'after' && n === this.count) kill();
    if (this.mode === 'during' && n === this.count) {
      // The real write path, stopped between its fsynced temp file and the rename (or link) into place.
      fs.renameSync = kill;
      fs.linkSync = kill;
    }
    super.write(name, data, exclusive);
  }
}
