/**
 * From Rancher's TLS choices to the chart values, the CA checksum agents pin, and the refusals and warnings for
 * the combinations that break agents or browsers (reference: rancher/rancher v2.12 chart, pkg/tls, pkg/systemtemplate).
 * No cdk8s here.
 */
import { stringify } from 'yaml';
import { isPlainEmailAddress } from '../cert-manager/names';
import { SpecError } from '../engine/errors';
import { rancherCaChecksum } from '../engine/pem';
import { isDns1123Subdomain, isDnsName } from '../engine/names';
import { schemaCheck } from '../state/documents';
import { PkiState } from '../state/pki-state';
import {
  AgentTlsMode,
  CA_SECRET,
  cacertsChecksumCommand,
  INGRESS_TLS_SECRET,
  isRancherTlsMode,
  LetsEncryptEnvironment,
  ModeSpecificProp,
  RANCHER_NAMESPACE,
  RANCHER_TLS_MODES,
  RancherTlsMode,
  runsWithoutCacerts,
} from './modes';
import hostnameRecordSchema from './schemas/hostname-record.schema.json';
import { checkCacerts, checkServingCertificate, ServingCertificateInput } from './serving-certificate';

/** What is asked of Rancher's TLS; field names are the construct's prop names, which errors name. */
export interface RancherTlsSpec {
  /** Rancher's hostname: the Ingress host and the name its certificate must cover. */
  readonly hostname: string;
  /** @default "rancher" */
  readonly mode?: RancherTlsMode;
  /** `letsEncrypt` mode: the ACME account contact. */
  readonly email?: string;
  /** @default "production" */
  readonly environment?: LetsEncryptEnvironment;
  /** `letsEncrypt` mode: the IngressClass of the HTTP-01 solver. */
  readonly ingressClass?: string;
  /** The brought certificate of `secret` mode, whatever its source: only its presence is checked here. */
  readonly certificate?: unknown;
  /** A CA to upload (privateCA=true, Secret tls-ca). */
  readonly cacertsPem?: string;
  /** The chart's `agentTLSMode`. */
  readonly agentTLSMode?: AgentTlsMode;
}

/** A spec that passed checkRancherTlsSpec, with its defaults filled in. */
export interface CheckedRancherTlsSpec extends RancherTlsSpec {
  readonly mode: RancherTlsMode;
}

/** The chart values that decide TLS (chart/values.yaml names). */
export interface RancherHelmValues {
  /** `hostname`. */
  readonly hostname: string;
  /** `ingress.tls`, when TLS ends at the Ingress. */
  readonly ingress?: {
    /** The Ingress's TLS. */
    readonly tls: {
      /** Where its certificate comes from. */
      readonly source: 'rancher' | 'letsEncrypt' | 'secret';
      /** The Secret it serves, tls-rancher-ingress. */
      readonly secretName: string;
    };
  };
  /** `privateCA`: Rancher reads cacerts.pem from Secret tls-ca. */
  readonly privateCA: boolean;
  /** `tls`: TLS ends at the Ingress, or in front of Rancher. */
  readonly tls: 'ingress' | 'external';
  /** `letsEncrypt`, in that mode. */
  readonly letsEncrypt?: {
    /** The ACME account contact. */
    readonly email: string;
    /** `production` or `staging`. */
    readonly environment: LetsEncryptEnvironment;
    /** The HTTP-01 solver's Ingress. */
    readonly ingress?: {
      /** Its IngressClass. */
      readonly class: string;
    };
  };
  /** `agentTLSMode`. */
  readonly agentTLSMode?: AgentTlsMode;
}

/** What synth writes for Rancher's TLS: the chart's values, the uploaded CA, its checksum and the warnings. */
export interface RancherTlsPlan {
  /** The chart's TLS values. */
  readonly values: RancherHelmValues;
  /** cacerts.pem of Secret tls-ca, when a CA is uploaded. */
  readonly cacertsPem?: string;
  /**
   * CATTLE_CA_CHECKSUM as Rancher computes it: a hex SHA-256 when a CA is uploaded, "" when Rancher runs with
   * --no-cacerts, undefined when Rancher makes its own CA at install.
   */
  readonly caChecksum?: string;
  /** Why the checksum is what it is (or cannot be known), and how to get it otherwise. */
  readonly caChecksumReason: string;
  /** Combinations that install but leave agents without a CA to pin, each with its fix. */
  readonly warnings: string[];
}

const LETS_ENCRYPT_ENVIRONMENTS: readonly LetsEncryptEnvironment[] = ['production', 'staging'];
const AGENT_TLS_MODES: readonly AgentTlsMode[] = ['strict', 'system-store'];
const MODE_SPECIFIC_PROPS: readonly ModeSpecificProp[] = ['email', 'environment', 'ingressClass', 'certificate', 'cacertsPem'];

/** Refuses what the chart would take but cannot work (SpecError naming the prop); fills the defaults. */
export function checkRancherTlsSpec(spec: RancherTlsSpec): CheckedRancherTlsSpec {
  if (typeof spec.hostname !== 'string' || !isDnsName(spec.hostname) || spec.hostname.startsWith('*')) {
    throw new SpecError('hostname', `${JSON.stringify(spec.hostname)} is not a DNS name (lower-case RFC 1123, no wildcard): it is the one name agents and browsers reach Rancher by`);
  }
  const mode = spec.mode ?? 'rancher';
  if (!isRancherTlsMode(mode)) throw new SpecError('mode', `must be one of ${Object.keys(RANCHER_TLS_MODES).join(', ')} (got ${JSON.stringify(mode)})`);
  const takes = RANCHER_TLS_MODES[mode].props;
  for (const prop of MODE_SPECIFIC_PROPS) {
    if (spec[prop] !== undefined && !takes.includes(prop)) {
      const modes = (Object.keys(RANCHER_TLS_MODES) as RancherTlsMode[]).filter((m) => RANCHER_TLS_MODES[m].props.includes(prop));
      throw new SpecError(prop, `applies to mode ${modes.join(' or ')}, not to mode "${mode}"`);
    }
  }
  if (mode === 'letsEncrypt') {
    if (spec.email === undefined) throw new SpecError('email', 'is required with mode letsEncrypt: the ACME account of Issuer rancher is registered to it');
    if (typeof spec.email !== 'string' || !isPlainEmailAddress(spec.email)) throw new SpecError('email', `${JSON.stringify(spec.email)} is not an email address`);
    if (spec.environment !== undefined && !LETS_ENCRYPT_ENVIRONMENTS.includes(spec.environment)) {
      throw new SpecError('environment', `must be "production" or "staging" (got ${JSON.stringify(spec.environment)}); the chart would silently take any other value for staging`);
    }
    if (spec.ingressClass !== undefined && (typeof spec.ingressClass !== 'string' || !isDns1123Subdomain(spec.ingressClass))) {
      throw new SpecError('ingressClass', `${JSON.stringify(spec.ingressClass)} is not an ingress class name (lower-case RFC 1123)`);
    }
  }
  if (mode === 'secret' && spec.certificate === undefined) {
    throw new SpecError('certificate', 'is required with mode secret: the certificate of Secret tls-rancher-ingress, issued from a ClusterCA or given as PEM');
  }
  if (spec.agentTLSMode !== undefined && !AGENT_TLS_MODES.includes(spec.agentTLSMode)) {
    throw new SpecError('agentTLSMode', `must be "strict" or "system-store" (got ${JSON.stringify(spec.agentTLSMode)})`);
  }
  return { ...spec, mode, environment: mode === 'letsEncrypt' ? (spec.environment ?? 'production') : undefined };
}

/**
 * The values, uploaded CA and checksum for `spec`. In `secret` mode, `served` is the certificate of
 * tls-rancher-ingress with the CA it chains to, which is then the CA uploaded; it is checked as clients would
 * check it (errors name `certificateChainPem`, `privateKeyPem`, `cacertsPem`).
 */
export function planRancherTls(spec: CheckedRancherTlsSpec, served?: Omit<ServingCertificateInput, 'hostname'>): RancherTlsPlan {
  if (served) checkServingCertificate({ hostname: spec.hostname, ...served });
  else if (spec.cacertsPem !== undefined) checkCacerts(spec.cacertsPem);
  const cacertsPem = served ? served.cacertsPem : spec.cacertsPem;
  const privateCA = cacertsPem !== undefined;
  const noCacerts = runsWithoutCacerts(spec.mode, privateCA);
  if (spec.agentTLSMode === 'strict' && noCacerts) {
    throw new SpecError(
      'agentTLSMode',
      `strict makes agents trust only the CA of the cacerts setting, which is empty here (no CA uploaded, so the chart passes --no-cacerts); ` +
        `agents would stop with "Strict CA verification is enabled but encountered error finding root CA". ` +
        `Give cacertsPem (the CA that issues Rancher's certificate: privateCA=true, Secret tls-ca), or use "system-store"`,
    );
  }
  const warnings: string[] = [];
  if (spec.mode === 'letsEncrypt' && spec.environment === 'staging' && !privateCA) {
    warnings.push(
      `environment: Let's Encrypt staging certificates chain to roots no client trusts, and without an uploaded CA the chart runs Rancher with ` +
        `--no-cacerts, leaving agents nothing to pin ("x509: certificate signed by unknown authority"). Fix: set cacertsPem to the staging root ` +
        `("(STAGING) Pretend Pear X1", https://letsencrypt.org/certs/staging/letsencrypt-stg-root-x1.pem), which sets privateCA=true and puts it in Secret tls-ca`,
    );
  }
  return { values: helmValues(spec, privateCA), cacertsPem, ...checksumOf(spec, cacertsPem, noCacerts), warnings };
}

function helmValues(spec: CheckedRancherTlsSpec, privateCA: boolean): RancherHelmValues {
  const row = RANCHER_TLS_MODES[spec.mode];
  return {
    hostname: spec.hostname,
    ...(row.source && { ingress: { tls: { source: row.source, secretName: INGRESS_TLS_SECRET } } }),
    privateCA,
    tls: row.tls,
    ...(spec.mode === 'letsEncrypt' && {
      letsEncrypt: { email: spec.email!, environment: spec.environment!, ...(spec.ingressClass !== undefined && { ingress: { class: spec.ingressClass } }) },
    }),
    ...(spec.agentTLSMode !== undefined && { agentTLSMode: spec.agentTLSMode }),
  };
}

/** Rancher's rule (pkg/tls readConfig, pkg/systemtemplate CAChecksum): the cacerts setting, hashed when not empty. */
function checksumOf(spec: CheckedRancherTlsSpec, cacertsPem: string | undefined, noCacerts: boolean): { caChecksum?: string; caChecksumReason: string } {
  if (cacertsPem !== undefined) {
    return {
      caChecksum: rancherCaChecksum(cacertsPem),
      caChecksumReason: `SHA-256 of cacerts.pem (Secret ${RANCHER_NAMESPACE}/${CA_SECRET}) as Rancher stores it in the cacerts setting: whitespace around it trimmed (Go's strings.TrimSpace), then one newline`,
    };
  }
  if (noCacerts) {
    return {
      caChecksum: '',
      caChecksumReason: 'no CA is uploaded, so the chart runs Rancher with --no-cacerts: the cacerts setting is empty, the checksum too, and agents verify Rancher with their system trust store',
    };
  }
  return {
    caChecksum: undefined,
    caChecksumReason:
      `Rancher generates its own CA (Secret ${RANCHER_NAMESPACE}/tls-rancher) when it first starts, so the checksum cannot be known at synth; ` +
      `after install: ${cacertsChecksumCommand(spec.hostname)}`,
  };
}

/** The values as a Helm values file, headed by comments: `header` lines, then the checksum and its reason. */
export function renderValuesFile(plan: RancherTlsPlan, header: string[]): string {
  const checksum = plan.caChecksum === undefined ? 'unknown until Rancher is installed' : plan.caChecksum === '' ? '"" (empty)' : plan.caChecksum;
  const comments = [...header, `CATTLE_CA_CHECKSUM: ${checksum}`, `  (${plan.caChecksumReason})`];
  return `${comments.map((line) => `# ${line}`).join('\n')}\n${stringify(plan.values)}`;
}

const HOSTNAME_RECORDS = 'rancher-hostname';
const checkHostnameRecord = schemaCheck<{ hostname: string }>(hostnameRecordSchema);

/**
 * Records Rancher's hostname in the state under `slot`, refusing a change from the recorded one unless
 * `allowChange`: Rancher cannot be renamed after install.
 */
export function recordHostname(state: PkiState, slot: string, hostname: string, allowChange: boolean): void {
  const name = `${HOSTNAME_RECORDS}/${slot}`;
  const recorded = state.readDocument(name, checkHostnameRecord)?.hostname;
  if (recorded !== undefined && recorded !== hostname && !allowChange) {
    throw new SpecError(
      'hostname',
      `changed from "${recorded}" to "${hostname}", but Rancher's hostname cannot change after install (registered agents, downstream clusters ` +
        `and kubeconfigs point at it); to reinstall or migrate on purpose, set allowHostnameChange: true for this synth`,
    );
  }
  state.putDocument(name, { hostname }, checkHostnameRecord);
}

/** The slot of every RancherIngressTLS the state holds (each records its hostname). */
export function rancherSlots(state: PkiState): string[] {
  return state.documentNames(HOSTNAME_RECORDS).map((name) => name.slice(HOSTNAME_RECORDS.length + 1));
}
