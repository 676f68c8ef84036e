// What `cdk8s-pki export-rancher` prints, read back as a shell and docker would read it, and the checks of the
// files it wrote by the programs that use such files: openssl verify, a TLS server on 127.0.0.1 holding
// cert.pem and key.pem, curl trusting cacerts.pem.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from './programs';
import { curlHttps, startRecordingServer } from './tls-server';

/** A `docker run` command line, by what docker makes of its words. */
export interface DockerRun {
  /** Flags without a value (-d, --privileged, --restart=…). */
  readonly flags: string[];
  readonly ports: string[];
  /** -v host:container. */
  readonly mounts: { readonly host: string; readonly container: string }[];
  readonly image: string;
  /** The words after the image: the container's arguments. */
  readonly args: string[];
}

/** The words of a POSIX shell command line: blanks separate, backslash-newline continues, single quotes quote. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && line[i + 1] === '\n') i++;
    else if (c === ' ' || c === '\n') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\') {
      word = (word ?? '') + line[++i];
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** `docker run` options that take a value in the next word (of those the command may use). */
const WITH_VALUE = new Set(['-p', '-v']);

export function parseDockerRun(command: string): DockerRun {
  const words = shellWords(command);
  if (words[0] !== 'docker' || words[1] !== 'run') throw new Error(`not a docker run command: ${command}`);
  const run: { flags: string[]; ports: string[]; mounts: DockerRun['mounts'][number][] } = { flags: [], ports: [], mounts: [] };
  let i = 2;
  for (; i < words.length && words[i].startsWith('-'); i++) {
    if (!WITH_VALUE.has(words[i])) run.flags.push(words[i]);
    else if (words[i] === '-p') run.ports.push(words[++i]);
    else {
      const [host, container, ...rest] = words[++i].split(':');
      if (rest.length > 0 || !container) throw new Error(`a -v of another shape: ${words[i]}`);
      run.mounts.push({ host, container });
    }
  }
  if (i >= words.length) throw new Error(`no image in ${command}`);
  return { ...run, image: words[i], args: words.slice(i + 1) };
}

/** What export-rancher printed: the line naming what it wrote, the docker run command, CATTLE_CA_CHECKSUM; nothing else. */
export function parseExportOutput(stdout: string): { wrote: string; command: string; docker: DockerRun; checksum: string; checksumReason: string } {
  const lines = stdout.split('\n');
  let end = 1;
  while (end < lines.length && lines[end].endsWith(' \\')) end++;
  const checksum = /^CATTLE_CA_CHECKSUM: (\S+) \((.*)\)$/.exec(lines[end + 1] ?? '');
  if (!lines[1].startsWith('docker run ') || !checksum || lines.length !== end + 3 || lines[end + 2] !== '') throw new Error(`unexpected export-rancher output:\n${stdout}`);
  const command = lines.slice(1, end + 1).join('\n');
  return { wrote: lines[0], command, docker: parseDockerRun(command), checksum: checksum[1], checksumReason: checksum[2] };
}

/** The files of `dir` (none of its subdirectories), by name, with their permission bits. */
export function fileModes(dir: string): Record<string, number> {
  return Object.fromEntries(fs.readdirSync(dir).map((name) => [name, fs.statSync(path.join(dir, name)).mode & 0o777]));
}

/** `openssl verify -untrusted cert.pem -CAfile cacerts.pem -purpose sslserver cert.pem`, as the walk-through runs it: its output and exit code. */
export function opensslVerifyExport(dir: string): { status: number | null; output: string } {
  const cert = path.join(dir, 'cert.pem');
  const result = run('openssl', ['verify', '-untrusted', cert, '-CAfile', path.join(dir, 'cacerts.pem'), '-purpose', 'sslserver', cert]);
  return { status: result.status, output: (result.stdout + result.stderr).trim() };
}

/**
 * A TLS server on 127.0.0.1 holding `dir`'s cert.pem and key.pem, asked for https://<hostname>:<port>/ by curl
 * trusting `cacert` only; stopped before returning. Returns curl's exit code and what it received.
 */
export async function curlThroughExportedServer(dir: string, hostname: string, cacert: string): Promise<{ status: number | null; body: string; stderr: string }> {
  const server = await startRecordingServer({ cert: fs.readFileSync(path.join(dir, 'cert.pem')), key: fs.readFileSync(path.join(dir, 'key.pem')), body: 'rancher' });
  try {
    const result = await curlHttps({ cacert }, hostname, server.port);
    return { status: result.status, body: result.stdout, stderr: result.stderr };
  } finally {
    await server.close();
  }
}

/** `sha256sum <file>`'s digest. */
export function sha256sum(file: string): string {
  const result = run('sha256sum', [file]);
  if (result.status !== 0) throw new Error(`sha256sum ${file}: ${result.stderr}`);
  return result.stdout.split(' ')[0];
}
