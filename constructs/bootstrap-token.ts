import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import {
  bootstrapUserName,
  checkExpiration,
  checkTokenSecretSpec,
  BOOTSTRAPPERS_GROUP,
  DEFAULT_NODE_TOKEN_GROUP,
  DEFAULT_TOKEN_TTL_SECONDS,
  defaultTokenRenewBeforeSeconds,
  generateToken,
  parseExpiration,
  parseToken,
  TOKEN_SECRET_NAMESPACE,
  TOKEN_SECRET_TYPE,
  tokenAuthFileLine,
  tokenSecretData,
  tokenSecretName,
  TokenUsage,
} from '../src/bootstrap/token';
import { locateErrors, SpecError } from '../src/engine/errors';
import { rfc3339Utc } from '../src/engine/time';
import { PkiState, SecretExpiry } from '../src/state/pki-state';
import { durationMilliseconds, durationSeconds } from './durations';
import { PlannedContent } from '../src/content/planned-content';
import { emitSecret, SecretOutput } from './secret-output';
import { pkiStateOf, slotOf } from './state';
import { checkKnownProps } from '../src/engine/spec';
import { BOOTSTRAP_TOKEN_PROPS } from './known-props';

/** A bootstrap token: generated (or given), its lifetime, usages and groups, and where its Secret goes. */
export interface BootstrapTokenProps {
  /**
   * The token, `<id>.<secret>` ([a-z0-9]{6}.[a-z0-9]{16}). Changing it replaces the token.
   * @default - generated once from the system CSPRNG and kept in the state; `cdk8s-pki rotate <slot>` replaces it
   */
  readonly token?: string;
  /**
   * How long the token is accepted, counted from when it was made (recorded in the state, so later synths do
   * not move the expiration). Synth replaces the token (new id and secret) once less than `renewBefore`
   * remains, so an unchanged app keeps synthesizing while a leaked token stays valid at most this long.
   * `Duration.hours(24)` is kubeadm's value: the state and the token Secret then change about every 16 hours of
   * synths. `Duration.seconds(0)`: it never expires, and is never renewed. Not with `expires`.
   * @default - 30 days (720h): a new token about every 20 days
   */
  readonly ttl?: Duration;
  /**
   * Renew the token once less than this remains of its `ttl`; shorter than the `ttl`. Not with `expires`.
   * @default - a third of the ttl (as certificates)
   */
  readonly renewBefore?: Duration;
  /**
   * A fixed expiration instead of `ttl` (a Date or an RFC 3339 string). Such a token is never renewed: after the
   * date, synth stops until the date is moved or removed.
   * @default - `ttl` decides
   */
  readonly expires?: Date | string;
  /** @default - ["authentication", "signing"] (kubeadm's default) */
  readonly usages?: TokenUsage[];
  /**
   * Extra groups the token authenticates as, besides system:bootstrappers; each must match
   * system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9].
   * @default - ["system:bootstrappers:kubeadm:default-node-token"]
   */
  readonly groups?: string[];
  /** @default - none */
  readonly description?: string;
  /**
   * What becomes of Secret `bootstrap-token-<id>`, a credential: left out (`cdk8s-pki export-secrets` writes it),
   * sealed, or plaintext by explicit choice.
   * @default - the app's policy (`useSecretOutput`), omit unless set
   */
  readonly secretOutput?: SecretOutput;
  /** @default - the app's state */
  readonly state?: PkiState;
  /** Changing it makes a new token. @default - derived from the construct path */
  readonly stateSlot?: string;
}

/**
 * A bootstrap token (kubeadm's `kubeadm token create`): made once and kept in the state, with the Secret the
 * API server's bootstrap authenticator and the controller-manager's bootstrapsigner read. A generated token
 * with a ttl is replaced by synth inside its renewal window, as certificates are.
 */
export class BootstrapToken extends Construct {
  /** The token's public id, the `<id>` of `<id>.<secret>`: the Secret's name and the `jws-kubeconfig-<id>` key of cluster-info. */
  readonly tokenId: string;
  /** `<id>.<secret>`: a credential; it reaches the output only as the secret output policy allows, or in a kubeconfig you write yourself. */
  readonly token: string;
  /** The state slot holding the token, for node plans and `cdk8s-pki rotate`. */
  readonly stateSlot: string;
  /** When the authenticator stops accepting it; undefined: never. */
  readonly expiration?: Date;
  /** What the token is for (`usage-bootstrap-<usage>` in its Secret): authentication, signing, or both. */
  readonly usages: TokenUsage[];
  /** The extra groups the token authenticates as, besides system:bootstrappers. */
  readonly groups: string[];
  /** The Secret or SealedSecret, when the policy synthesizes one. */
  readonly secret?: ApiObject;

  constructor(scope: Construct, id: string, props: BootstrapTokenProps = {}) {
    super(scope, id);
    locateErrors(this.node.path, () => checkKnownProps(props, BOOTSTRAP_TOKEN_PROPS));
    const state = props.state ?? pkiStateOf(this);
    this.stateSlot = props.stateSlot ?? slotOf(this);
    this.usages = props.usages ?? ['authentication', 'signing'];
    this.groups = props.groups ?? [DEFAULT_NODE_TOKEN_GROUP];
    const { token, expiration, data: secretData } = locateErrors(this.node.path, () => {
      // Everything that can be refused is checked before the state is asked for a token.
      if (props.token !== undefined) parseToken(props.token);
      checkTokenSecretSpec({ usages: this.usages, extraGroups: this.groups });
      const fixedExpiration = fixedExpirationOf(props);
      if (fixedExpiration && fixedExpiration.getTime() <= state.now().getTime()) {
        throw new SpecError(
          'expires',
          `the token expired at ${rfc3339Utc(fixedExpiration)}, and a token with a fixed expiration is never renewed; give a later \`expires\` (with \`cdk8s-pki rotate ${this.stateSlot}\` for a new token too), or remove \`expires\` so that synth renews the token every ttl`,
        );
      }
      const expiry = fixedExpiration ? { fixed: fixedExpiration } : expiryAfterTtl(props, state.now());
      const stored = state.ensureSecret(this.stateSlot, { given: props.token, generate: generateToken, expiry });
      // Only a given token can still be expired here: a generated one was renewed.
      if (stored.expiresAt && stored.expiresAt.getTime() <= state.now().getTime()) {
        throw new SpecError('token', `the given token expired at ${rfc3339Utc(stored.expiresAt)}, and a given token is never renewed; give a new \`token\`, or remove \`token\` so that synth makes and renews one`);
      }
      const expires = stored.expiresAt;
      const secretData = tokenSecretData({ token: parseToken(stored.value), usages: this.usages, extraGroups: this.groups, expiration: expires, description: props.description });
      return { token: stored.value, expiration: expires, data: secretData };
    });
    this.token = token;
    this.tokenId = parseToken(token).id;
    this.expiration = expiration;
    const data: Record<string, PlannedContent> = Object.fromEntries(
      Object.entries(secretData).map(([key, value]) => [key, key === 'token-secret' ? { kind: 'token-secret', tokenSlot: this.stateSlot } : { kind: 'text', text: value }]),
    );
    this.secret = emitSecret(this, 'secret', { name: tokenSecretName(parseToken(token)), namespace: TOKEN_SECRET_NAMESPACE, type: TOKEN_SECRET_TYPE, data }, props.secretOutput);
  }

  /**
   * This token as an entry of the API server's legacy --token-auth-file, for the older guides that use a static
   * token instead of bootstrap tokens: the bootstrap user name and the token's groups, so the same RBAC applies.
   */
  tokenAuthFileEntry(options: { user?: string; uid?: string } = {}): {
    /** The user name (the bootstrap user `system:bootstrap:<id>` unless given). */
    user: string;
    /** The user's uid (the token id unless given). */
    uid: string;
    /** system:bootstrappers and the token's groups. */
    groups: string[];
  } {
    return { user: options.user ?? bootstrapUserName(parseToken(this.token)), uid: options.uid ?? this.tokenId, groups: [BOOTSTRAPPERS_GROUP, ...this.groups] };
  }

  /** The line `token,user,uid,"group1,group2"` of tokenAuthFileEntry (a credential). */
  tokenAuthFileLine(options: { user?: string; uid?: string } = {}): string {
    const entry = this.tokenAuthFileEntry(options);
    return locateErrors(this.node.path, () => tokenAuthFileLine(this.token, entry.user, entry.uid, entry.groups));
  }
}

/** The `expires` prop as a Date (refused with `ttl`, or when not a time); undefined when `ttl` rules. */
function fixedExpirationOf(props: BootstrapTokenProps): Date | undefined {
  if (props.expires === undefined) return undefined;
  if (props.ttl !== undefined) throw new SpecError('expires', 'give either ttl or expires, not both');
  if (props.renewBefore !== undefined) throw new SpecError('renewBefore', 'a token with a fixed expires is never renewed; remove renewBefore, or give a ttl instead of expires');
  return parseExpiration(props.expires, 'expires');
}

/**
 * The ttl and renewal window of a token (30 days, renewed in its last third, by default); undefined for a ttl
 * of 0 (never expires). Checked against `now` first, so an expiration past year 9999 is refused before the
 * state is asked.
 */
function expiryAfterTtl(props: BootstrapTokenProps, now: Date): SecretExpiry | undefined {
  if (props.ttl !== undefined && durationMilliseconds(props.ttl, 'ttl') === 0) {
    if (props.renewBefore !== undefined) throw new SpecError('renewBefore', 'a token with a ttl of 0 never expires, so it is never renewed; remove renewBefore, or give a ttl');
    return undefined;
  }
  const ttlSeconds = props.ttl === undefined ? DEFAULT_TOKEN_TTL_SECONDS : durationSeconds(props.ttl, 'ttl');
  checkExpiration(new Date(now.getTime() + ttlSeconds * 1000), 'ttl');
  if (props.renewBefore === undefined) return { ttlSeconds, renewBeforeSeconds: defaultTokenRenewBeforeSeconds(ttlSeconds) };
  const renewBeforeSeconds = durationSeconds(props.renewBefore, 'renewBefore');
  if (renewBeforeSeconds >= ttlSeconds) {
    throw new SpecError('renewBefore', `must be shorter than the ttl (${renewBeforeSeconds} s is not under ${ttlSeconds} s), or every synth makes a new token`);
  }
  return { ttlSeconds, renewBeforeSeconds };
}
