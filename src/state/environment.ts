/** Environment variables a user's CI sets; documented in the README. */
export const ENV_STATE_DIR = 'CDK8S_PKI_STATE_DIR';
export const ENV_FROZEN = 'CDK8S_PKI_FROZEN';

/** `$CDK8S_PKI_STATE_DIR`, else `.pki` (relative to the working directory, i.e. beside the app). */
export function stateDirectoryFromEnvironment(): string {
  return process.env[ENV_STATE_DIR] || '.pki';
}

/** True when `$CDK8S_PKI_FROZEN` is `1` or `true`: synth must not write the state. */
export function frozenFromEnvironment(): boolean {
  return ['1', 'true'].includes((process.env[ENV_FROZEN] ?? '').toLowerCase());
}
