import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import {
  bootstrapUserName,
  checkExpiration,
  checkTokenSecretSpec,
  BOOTSTRAPPERS_GROUP,
  DEFAULT_NODE_TOKEN_GROUP,
  DEFAULT_TOKEN_TTL_SECONDS,
  generateToken,
  parseExpiration,
  parseToken,
  rfc3339Utc,
  TOKEN_SECRET_NAMESPACE,
  TOKEN_SECRET_TYPE,
  tokenAuthFileLine,
  tokenSecretData,
  tokenSecretName,
  TokenUsage,
} from '../src/bootstrap/token';
import { locateErrors, SpecError } from '../src/engine/errors';
import { PkiState } from '../src/state/pki-state';
import { durationMilliseconds, durationSeconds } from './durations';
import { PlannedContent } from '../src/content/planned-content';
import { emitSecret, SecretOutput } from './secret-output';
import { pkiStateOf, slotOf } from './state';
import { checkKnownProps } from '../src/engine/spec';
import { BOOTSTRAP_TOKEN_PROPS } from './known-props';

export interface BootstrapTokenProps {
  /**
   * The token, `<id>.<secret>` ([a-z0-9]{6}.[a-z0-9]{16}). Changing it replaces the token.
   * @default - generated once from the system CSPRNG and kept in the state; `cdk8s-pki rotate <slot>` replaces it
   */
  readonly token?: string;
  /**
   * How long the token is accepted, counted from when it was made (recorded in the state, so later synths do
   * not move the expiration). `Duration.seconds(0)`: it never expires. Not with `expires`.
   * @default - 24 hours (kubeadm's default)
   */
  readonly ttl?: Duration;
  /** A fixed expiration instead of `ttl` (a Date or an RFC 3339 string). @default - `ttl` decides */
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
 * API server's bootstrap authenticator and the controller-manager's bootstrapsigner read.
 */
export class BootstrapToken extends Construct {
  readonly tokenId: string;
  /** `<id>.<secret>`: a credential; it reaches the output only as the secret output policy allows, or in a kubeconfig you write yourself. */
  readonly token: string;
  /** The state slot holding the token, for node plans and `cdk8s-pki rotate`. */
  readonly stateSlot: string;
  /** When the authenticator stops accepting it; undefined: never. */
  readonly expiration?: Date;
  readonly usages: TokenUsage[];
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
      const refuseExpired = (expires: Date | undefined, field: 'expires' | 'ttl') => {
        if (expires && expires.getTime() <= state.now().getTime()) {
          throw new SpecError(field, `the token expired at ${rfc3339Utc(expires)}; give a later expiration, or replace the token with \`cdk8s-pki rotate ${this.stateSlot}\``);
        }
      };
      const fixedExpiration = fixedExpirationOf(props);
      refuseExpired(fixedExpiration, 'expires');
      if (props.ttl !== undefined) expirationAfterTtl(props.ttl, state.now());
      const stored = state.ensureSecret(this.stateSlot, { given: props.token, generate: generateToken });
      const expires = props.expires === undefined ? expirationAfterTtl(props.ttl, stored.createdAt) : fixedExpiration;
      refuseExpired(expires, 'ttl');
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
  tokenAuthFileEntry(options: { user?: string; uid?: string } = {}): { user: string; uid: string; groups: string[] } {
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
  return parseExpiration(props.expires, 'expires');
}

/** createdAt + ttl (kubeadm's 24h by default); a ttl of 0 never expires. */
function expirationAfterTtl(ttl: Duration | undefined, createdAt: Date): Date | undefined {
  if (ttl !== undefined && durationMilliseconds(ttl, 'ttl') === 0) return undefined;
  const ttlSeconds = ttl === undefined ? DEFAULT_TOKEN_TTL_SECONDS : durationSeconds(ttl, 'ttl');
  return checkExpiration(new Date(createdAt.getTime() + ttlSeconds * 1000), 'ttl');
}
