// TLS bootstrapping: bootstrap tokens, cluster-info discovery and the RBAC for node join. No cdk8s here.
export * from './token';
export * from './cluster-info';
export * from './rbac';
