// Name rules shared by the Issuer and Certificate checks.
import { SpecError } from '../engine/errors';

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);

/** What Kubernetes answers for a name that is not a DNS-1123 subdomain. */
export const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/** Kubernetes' IsDNS1123Subdomain: object names (a Secret's), IngressClass names. */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

export function checkDns1123Subdomain(value: string, field: string): void {
  if (!isDns1123Subdomain(value)) throw new SpecError(field, `"${value}": ${DNS1123_SUBDOMAIN_MESSAGE} (at most 253 characters)`);
}

// A bare mailbox: Go's mail.ParseAddress would also take "Ops <ops@example.com>", which cert-manager then refuses
// because the address is not the whole value.
const PLAIN_EMAIL_ADDRESS = /^[^\s@<>()",;:\\[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;

/** `local@domain` and nothing else: no display name, comment, spaces or brackets. */
export function isPlainEmailAddress(value: string): boolean {
  return PLAIN_EMAIL_ADDRESS.test(value);
}
