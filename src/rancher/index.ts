// Rancher's TLS as its Helm chart sees it: the mode table, the values, the checks and CATTLE_CA_CHECKSUM. No cdk8s here.
export * from './modes';
export { checkRancherTlsSpec, CheckedRancherTlsSpec, planRancherTls, RancherHelmValues, RancherTlsPlan, RancherTlsSpec, recordHostname, renderValuesFile } from './plan';
export { checkCacerts, checkServingCertificate, dnsNameCovers, ServingCertificateInput } from './serving-certificate';
export { orderCacerts, rotationCacerts, rotationNotes } from './rotation';
