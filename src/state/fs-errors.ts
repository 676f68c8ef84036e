/**
 * A file system error as the words of a one-line message: `no space left on the device (ENOSPC)`, without
 * Node's `ENOSPC: …, write` prefix or the syscall, which say nothing to the reader.
 */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error (a failing disk?)',
  EROFS: 'read-only file system',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
};

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined) return (err as Error).message ?? String(err);
  return `${DESCRIPTIONS[code] ?? code.toLowerCase()} (${code})`;
}
