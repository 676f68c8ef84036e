// Name rules shared by the Issuer and Certificate checks; the DNS-1123 rules are the engine's.
export { checkDns1123Subdomain, DNS1123_SUBDOMAIN_MESSAGE, isDns1123Subdomain } from '../engine/names';

// A bare mailbox: Go's mail.ParseAddress would also take "Ops <ops@example.com>", which cert-manager then refuses
// because the address is not the whole value.
const PLAIN_EMAIL_ADDRESS = /^[^\s@<>()",;:\\[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;

/** `local@domain` and nothing else: no display name, comment, spaces or brackets. */
export function isPlainEmailAddress(value: string): boolean {
  return PLAIN_EMAIL_ADDRESS.test(value);
}
