// kubeadm's control-plane PKI as data: the catalog, the cluster spec, flags and manifests, node bundles. No cdk8s here.
export * from './catalog';
export * from './cluster-spec';
export * from '../content/kubeconfig';
export * from './layout';
export * from './node-bundle';
export * from './static-pods';
export * from './join-config';
export * from './planner';
