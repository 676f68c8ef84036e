/**
 * Bootstrap tokens as kubeadm and the API server's bootstrap authenticator know them (k8s.io/cluster-bootstrap
 * token/api and token/util; kubeadm's bootstraptoken/v1). No cdk8s here.
 */
import { SpecError } from '../engine/errors';
import { rfc3339Utc } from '../engine/time';

/** `<id>.<secret>`: 6 and 16 characters of [a-z0-9]. */
export const TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
/** Every extra group must be a system:bootstrappers: group (helpers.go ValidateBootstrapGroupName). */
export const EXTRA_GROUP_PATTERN = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
/** The group the authenticator gives every bootstrap token, besides its extra groups. */
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';
/** kubeadm's default extra group for node join tokens. */
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';
/**
 * The default ttl, 30 days rather than kubeadm's DefaultTokenDuration (24h): synth renews tokens, and with 24h the
 * state would change about daily; 30 days still bounds how long a leaked token is accepted.
 */
export const DEFAULT_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

/** Renew once a third of the ttl remains, as certificates (cert-manager's default). */
export function defaultTokenRenewBeforeSeconds(ttlSeconds: number): number {
  return Math.floor(ttlSeconds / 3);
}
/** Where bootstrap token Secrets live: the authenticator reads them only there. */
export const TOKEN_SECRET_NAMESPACE = 'kube-system';
/** The Secret type of a bootstrap token. */
export const TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';

/** `authentication`: the token authenticates to the API server; `signing`: the bootstrapsigner signs cluster-info with it. */
export type TokenUsage = 'authentication' | 'signing';
/** Both usages, kubeadm's default. */
export const TOKEN_USAGES: readonly TokenUsage[] = ['authentication', 'signing'];

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A bootstrap token split into its two parts. */
export interface BootstrapToken {
  /** The public id, 6 characters [a-z0-9]. */
  readonly id: string;
  /** The secret, 16 characters [a-z0-9]. */
  readonly secret: string;
}

/** Splits `<id>.<secret>`; anything else is refused without echoing the secret part. */
export function parseToken(token: string, field = 'token'): BootstrapToken {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) throw new SpecError(field, 'is not a bootstrap token: it must match [a-z0-9]{6}.[a-z0-9]{16}');
  return { id: match[1], secret: match[2] };
}

/**
 * A new token from `randomBytes` (a CSPRNG, or a seeded stream in tests), uniform over [a-z0-9]: bytes of 252
 * and above are skipped so that the modulo does not favour the first characters (252 = 7 × 36).
 */
export function generateToken(randomBytes: (count: number) => Buffer): string {
  const characters: string[] = [];
  while (characters.length < 22) {
    for (const byte of randomBytes(32)) {
      if (byte < 252 && characters.length < 22) characters.push(ALPHABET[byte % 36]);
    }
  }
  return `${characters.slice(0, 6).join('')}.${characters.slice(6).join('')}`;
}

/** What a bootstrap token's Secret holds. */
export interface TokenSecretSpec {
  /** The token. */
  readonly token: BootstrapToken;
  /** `usage-bootstrap-<usage>: "true"` for each. */
  readonly usages: readonly TokenUsage[];
  /** `auth-extra-groups`. */
  readonly extraGroups: readonly string[];
  /** When the authenticator stops accepting the token; none means it never expires. */
  readonly expiration?: Date;
  /** `description`. */
  readonly description?: string;
}

/** Validates usages and groups as the authenticator and kubeadm do; fields named as in TokenSecretSpec. */
export function checkTokenSecretSpec(spec: Pick<TokenSecretSpec, 'usages' | 'extraGroups'>): void {
  if (spec.usages.length === 0) throw new SpecError('usages', 'a token needs at least one usage: "authentication" and/or "signing"');
  spec.usages.forEach((usage, i) => {
    if (!TOKEN_USAGES.includes(usage)) throw new SpecError(`usages[${i}]`, `"${usage}" is not a bootstrap token usage ("authentication" or "signing")`);
    if (spec.usages.indexOf(usage) !== i) throw new SpecError(`usages[${i}]`, `"${usage}" is listed twice`);
  });
  checkBootstrapGroups(spec.extraGroups);
}

/** Each group a bootstrap token authenticates as must be a system:bootstrappers: group (field `groups[i]`). */
export function checkBootstrapGroups(groups: readonly string[]): void {
  groups.forEach((group, i) => {
    if (!EXTRA_GROUP_PATTERN.test(group)) {
      throw new SpecError(`groups[${i}]`, `"${group}" is not a bootstrap group: it must match system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]`);
    }
  });
}

/** The data of Secret `bootstrap-token-<id>` (kubeadm's BootstrapToken.ToSecret), as strings. */
export function tokenSecretData(spec: TokenSecretSpec): Record<string, string> {
  checkTokenSecretSpec(spec);
  const data: Record<string, string> = { 'token-id': spec.token.id, 'token-secret': spec.token.secret };
  if (spec.description) data.description = spec.description;
  if (spec.expiration) data.expiration = rfc3339Utc(spec.expiration);
  for (const usage of [...spec.usages].sort()) data[`usage-bootstrap-${usage}`] = 'true';
  if (spec.extraGroups.length > 0) data['auth-extra-groups'] = spec.extraGroups.join(',');
  return data;
}

/** The token's Secret name, `bootstrap-token-<id>`. */
export function tokenSecretName(token: BootstrapToken): string {
  return `bootstrap-token-${token.id}`;
}

/** The user the bootstrap authenticator maps a token to. */
export function bootstrapUserName(token: BootstrapToken): string {
  return `system:bootstrap:${token.id}`;
}

/**
 * One line of the API server's --token-auth-file (apiserver tokenfile.go, Go encoding/csv):
 * `token,user,uid,"group1,group2"`. Fields that would need CSV quoting themselves are refused.
 */
export function tokenAuthFileLine(token: string, user: string, uid: string, groups: readonly string[]): string {
  for (const [field, value] of [['user', user], ['uid', uid], ...groups.map((g, i) => [`groups[${i}]`, g])] as [string, string][]) checkTokenAuthFileField(field, value);
  return [token, user, uid, ...(groups.length > 0 ? [`"${groups.join(',')}"`] : [])].join(',');
}

/** Refuses a value the token file cannot hold as one unquoted field: empty, or with a comma, quote or line break. */
export function checkTokenAuthFileField(field: string, value: string): void {
  if (!value || /[",\r\n]/.test(value)) throw new SpecError(field, `"${value}" cannot be a field of the token file: it is empty or holds a comma, quote or line break`);
}

/** The last instant Go's time.RFC3339 writes and reads back (a four-digit year), as the Secret's expiration. */
const LATEST_EXPIRATION = Date.UTC(9999, 11, 31, 23, 59, 59);
const RFC3339 = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/**
 * A token expiration given as a Date or an RFC 3339 string (`2026-05-01T00:00:00Z`), checked to be a time the
 * Secret can carry; a string JavaScript's Date would guess at ("May 1", "2026") is refused.
 */
export function parseExpiration(value: unknown, field: string): Date {
  if (typeof value === 'string') {
    if (!RFC3339.test(value) || Number.isNaN(new Date(value).getTime())) throw new SpecError(field, `${JSON.stringify(value)} is not an RFC 3339 time such as "2026-05-01T00:00:00Z"`);
    return checkExpiration(new Date(value), field);
  }
  if (!(value instanceof Date)) throw new SpecError(field, `must be a Date or an RFC 3339 string (got ${JSON.stringify(value) ?? String(value)})`);
  if (Number.isNaN(value.getTime())) throw new SpecError(field, 'is an invalid Date');
  return checkExpiration(value, field);
}

/** An expiration no later than year 9999 (what RFC 3339 can write); `field` names the prop that set it. */
export function checkExpiration(date: Date, field: string): Date {
  if (!(date.getTime() <= LATEST_EXPIRATION)) throw new SpecError(field, 'puts the expiration after 9999-12-31T23:59:59Z, which RFC 3339 cannot write');
  return date;
}
