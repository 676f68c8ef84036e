// cert-manager and trust-manager as data: the webhook's rules for Issuers and Certificates, the issuer kinds and
// types, Let's Encrypt's servers, Go durations and Argo CD sync waves. No cdk8s here.
export * from './certificate';
export * from './issuers';
export * from '../engine/go-duration';
export * from './sync-waves';
export * from './names';
