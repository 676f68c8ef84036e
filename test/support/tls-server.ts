// The TLS peers of the kubeconfig and Rancher tests: an https server on 127.0.0.1 that records who each client
// said it was (its certificate's subject, or its Authorization header) and which handshakes it refused, and the
// real clients, kubectl and curl, run asynchronously since the server answering them runs in this process. A
// missing kubectl or curl throws, failing the test (it never skips).
import { execFile } from 'node:child_process';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import type { RunResult } from './programs';

/** One request as the server saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  commonName?: string;
  organizations?: string[];
  /** The Authorization header, when the client sent one. */
  authorization?: string;
}

export interface RecordingServer {
  readonly port: number;
  /** Every request answered, in order. */
  readonly seen: SeenRequest[];
  /** Every client certificate the server refused, as node's verification error (e.g. UNABLE_TO_GET_ISSUER_CERT_LOCALLY), in order. */
  readonly refused: string[];
  close(): Promise<void>;
}

export interface RecordingServerOptions {
  /** The served certificate (leaf first, then any intermediates) and its key, PEM. */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** With a client-CA bundle, a client certificate from one of its CAs is required (kube-apiserver's --client-ca-file); without, none is asked for. */
  readonly clientCa?: string | Buffer;
  /** What GET / answers (200); other paths but /healthz get 404. */
  readonly body?: string;
  /**
   * What the server does with a client certificate its bundle does not verify: end the connection, as node's
   * rejectUnauthorized does, or answer 401, as kube-apiserver, the kubelet and aggregated API servers do (they
   * only request a certificate in the handshake; their x509 authenticator verifies it per request).
   * @default 'close'
   */
  readonly unverifiedClient?: 'close' | 'unauthorized';
}

/** A peer certificate's subject as node reports it: one value is a string, several an array. */
const values = (field: string | string[] | undefined): string[] => (field === undefined ? [] : Array.isArray(field) ? field : [field]);

/**
 * An https server on 127.0.0.1 (a free port) serving `cert`; it answers GET /healthz with "ok" (and GET / with
 * `body` when given), and records each request's client subject, or its Authorization header when no client
 * certificate is asked for.
 */
export async function startRecordingServer(options: RecordingServerOptions): Promise<RecordingServer> {
  const seen: SeenRequest[] = [];
  const refused: string[] = [];
  const { clientCa } = options;
  const server = https.createServer(
    // rejectUnauthorized stays off so that the refusals record why node's verification failed; 'close' ends the
    // connection just as rejectUnauthorized would, before HTTP reads anything.
    { cert: options.cert, key: options.key, ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: false } : {}) },
    (request, response) => {
      const socket = request.socket as TLSSocket;
      if (clientCa && !socket.authorized) {
        refused.push(String(socket.authorizationError));
        response.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
        return;
      }
      if (clientCa) {
        const subject = socket.getPeerCertificate().subject as unknown as { CN?: string; O?: string | string[] };
        seen.push({ method: request.method ?? '', url: request.url ?? '', commonName: subject.CN, organizations: values(subject.O) });
      } else {
        seen.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization });
      }
      const answer = request.method !== 'GET' ? undefined : request.url === '/healthz' ? 'ok' : request.url === '/' ? options.body : undefined;
      response.writeHead(answer !== undefined ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? 'not found');
    },
  );
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    if (clientCa && !socket.authorized && (options.unverifiedClient ?? 'close') === 'close') {
      refused.push(String(socket.authorizationError));
      socket.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const execFileAsync = promisify(execFile);

/** Runs `program` asynchronously; a non-zero exit is a result, a program that cannot run or hangs throws. */
async function runAsync(program: string, args: string[], timeoutMs = 30_000): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(program, args, { encoding: 'utf8', timeout: timeoutMs });
    return { status: 0, stdout, stderr };
  } catch (err) {
    const failure = err as Error & { code?: number | string; killed?: boolean; stdout?: string; stderr?: string };
    if (failure.killed) throw new Error(`${program} did not finish within ${timeoutMs / 1000} s: ${failure.stderr ?? ''}`);
    if (typeof failure.code !== 'number') throw new Error(`${program} could not run (is ${program} installed?): ${failure.message}`);
    return { status: failure.code, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
  }
}

/**
 * `kubectl get --raw /healthz` with `kubeconfig`, sent to 127.0.0.1:`port` under the name `serverName` (the
 * default "kubernetes" is a SAN of the apiserver certificate; 127.0.0.1 is not). kubectl's HTTP cache goes to
 * `cacheDir` rather than into the home directory of whoever runs the tests.
 */
export function kubectlHealthz(kubeconfig: string, port: number, cacheDir: string, serverName = 'kubernetes'): Promise<RunResult> {
  return runAsync('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, '--server', `https://127.0.0.1:${port}`, '--tls-server-name', serverName, 'get', '--raw', '/healthz']);
}

/**
 * What came of a `kubectlHealthz` against a RecordingServer that asks for client certificates (or against one that
 * does not), given what the server saw and refused meanwhile, in the words of `tlsVerdict`; anything else
 * shows in full.
 */
export function kubectlOutcome(result: RunResult, seen: readonly SeenRequest[], refused: readonly string[]): unknown {
  if (result.status === 0 && result.stdout === 'ok' && seen.length > 0 && refused.length === 0) return 'ok';
  if (result.status !== 0 && /x509: certificate signed by unknown authority/.test(result.stderr) && seen.length === 0 && refused.length === 0) return 'the client refuses the server';
  // The server answered 401, having found no CA of its client-CA bundle that signed the certificate.
  const unverified = refused.length > 0 && refused.every((r) => r === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  if (result.status !== 0 && /^error: You must be logged in to the server /.test(result.stderr) && seen.length === 0 && unverified) return 'the server refuses the client';
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, seen, refused };
}

/** How curl checks the server and who it is: `cacert` trusts that bundle, `insecure` checks nothing (for a peer whose serving certificate is outside the test); `cert`/`key` a client certificate. */
export type CurlTls = ({ readonly cacert: string } | { readonly insecure: true }) & { readonly cert?: string; readonly key?: string };

/**
 * `curl https://hostname:port<urlPath>`, `hostname` resolved to 127.0.0.1; curl's exit code is the status (60
 * for a server certificate it does not trust, 56 for a connection the server ended).
 */
export function curlHttps(tls: CurlTls, hostname: string, port: number, urlPath = '/'): Promise<RunResult> {
  const trust = 'cacert' in tls ? ['--cacert', tls.cacert] : ['--insecure'];
  const client = tls.cert && tls.key ? ['--cert', tls.cert, '--key', tls.key] : [];
  return runAsync('curl', ['--silent', '--show-error', '--max-time', '20', ...trust, ...client, '--resolve', `${hostname}:${port}:127.0.0.1`, `https://${hostname}:${port}${urlPath}`]);
}
