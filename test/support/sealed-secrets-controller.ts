// A Sealed Secrets controller for tests: its key pair made by openssl as the controller makes them, and its
// side of kubeseal's format written independently with python3-cryptography (Debian's, under /usr/bin/python3).
import { runOk } from './programs';

// Split the length-prefixed RSA-OAEP block, unwrap the session key with the label, open AES-256-GCM with a zero nonce.
const UNSEAL = `
import base64, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
request = json.load(sys.stdin)
with open(request["key"], "rb") as f:
    key = serialization.load_pem_private_key(f.read(), password=None)
results = []
for item in request["items"]:
    data = base64.b64decode(item["ciphertext"])
    length = int.from_bytes(data[:2], "big")
    try:
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=item["label"].encode())
        session_key = key.decrypt(data[2:2 + length], oaep)
        plaintext = AESGCM(session_key).decrypt(bytes(12), data[2 + length:], None)
        results.append({"plaintext": base64.b64encode(plaintext).decode()})
    except Exception as e:
        results.append({"error": type(e).__name__})
print(json.dumps(results))
`;

export interface Unsealed {
  plaintext?: string;
  error?: string;
}

/** What the controller holding `keyFile` gets from each ciphertext, tried under the given label. */
export function unseal(keyFile: string, items: { ciphertext: Buffer; label: string }[]): Unsealed[] {
  const input = JSON.stringify({ key: keyFile, items: items.map((i) => ({ ciphertext: i.ciphertext.toString('base64'), label: i.label })) });
  return (JSON.parse(runOk('/usr/bin/python3', ['-c', UNSEAL], { input })) as Unsealed[]).map((r) =>
    r.plaintext === undefined ? r : { plaintext: Buffer.from(r.plaintext, 'base64').toString('utf8') },
  );
}

/** A controller key pair and its self-signed certificate, made the way the controller makes them. */
export function controller(dir: string, name: string, newkey: string[]): { cert: string; key: string } {
  const cert = `${dir}/${name}.crt`;
  const key = `${dir}/${name}.key`;
  runOk('openssl', ['req', '-x509', ...newkey, '-nodes', '-keyout', key, '-out', cert, '-days', '3650', '-subj', '/CN=sealed-secret/O=sealed-secret']);
  return { cert, key };
}
