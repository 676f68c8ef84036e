// Service-account tokens as kube-apiserver checks them: a JWS signed with sa.key, accepted when one of the
// public keys of sa.pub (--service-account-key-file may hold several) verifies its signature. Signing uses
// node:crypto; verifying runs in python3 with the `cryptography` package, an implementation that shares nothing
// with node's, so a token and a verdict never come from the same code.
import * as crypto from 'node:crypto';
import { runOk } from './programs';

/** The JWS algorithm kube-apiserver uses for a key (ServiceAccount token signing, RFC 7518). */
export function jwsAlgorithm(privateKeyPem: string): 'RS256' | 'ES256' | 'ES384' {
  const key = crypto.createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ec' && curve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'ec' && curve === 'secp384r1') return 'ES384';
  throw new Error(`no service-account JWS algorithm for a ${key.asymmetricKeyType} ${curve ?? ''} key`);
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** A compact JWS of `claims`, signed with `privateKeyPem` (ECDSA signatures as r‖s, as JWS wants). */
export function signToken(privateKeyPem: string, claims: Record<string, unknown>): string {
  const alg = jwsAlgorithm(privateKeyPem);
  const signingInput = `${base64url(JSON.stringify({ alg, typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  const signature = crypto.sign(alg === 'ES384' ? 'sha384' : 'sha256', Buffer.from(signingInput), { key: privateKeyPem, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${base64url(signature)}`;
}

const VERIFIER = String.raw`
import base64, json, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def keys(pem):
    blocks = pem.split("-----END PUBLIC KEY-----")
    return [serialization.load_pem_public_key((b + "-----END PUBLIC KEY-----\n").encode()) for b in blocks if "-----BEGIN PUBLIC KEY-----" in b]

def verifies(key, alg, data, sig):
    try:
        if alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
            return True
        sizes = {"ES256": (32, hashes.SHA256(), "secp256r1"), "ES384": (48, hashes.SHA384(), "secp384r1")}
        if alg in sizes and isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == sizes[alg][2]:
            n, digest, _ = sizes[alg]
            if len(sig) != 2 * n:
                return False
            der = encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
            key.verify(der, data, ec.ECDSA(digest))
            return True
    except InvalidSignature:
        pass
    return False

out = []
for case in json.load(sys.stdin):
    header, payload, sig = case["token"].split(".")
    alg = json.loads(b64(header))["alg"]
    ks = keys(case["publicKeysPem"])
    if not ks:
        sys.exit("no public key in the given PEM")
    out.append(any(verifies(k, alg, (header + "." + payload).encode(), b64(sig)) for k in ks))
print(json.dumps(out))
`;

/** For each case, whether one of the public keys of `publicKeysPem` (an sa.pub) verifies `token`, in one python3 process. */
export function verifyTokens(cases: readonly { token: string; publicKeysPem: string }[]): boolean[] {
  return JSON.parse(runOk('python3', ['-c', VERIFIER], { input: JSON.stringify(cases) })) as boolean[];
}
