#!/usr/bin/env bash
# The openssl baseline: the example app's keys and certificates made the kubernetes-the-hard-way way, one openssl
# process per step: per certificate a key (genpkey), a CSR (req -new, extensions by -addext) and a certificate
# signed by its CA (x509 -req -copy_extensions copyall); each CA self-signed (req -x509). The set is the example
# app's (examples/main.ts, the reference cluster: 3 control-plane nodes, 2 workers): 32 keys, 31 certificates.
#
#   bench/openssl-baseline.sh ALGORITHM OUTDIR      ALGORITHM: ecdsa-p256 | rsa-2048; OUTDIR: an existing directory
#
# Nothing but bash and openssl runs (no mkdir, no rm): the processes timed are openssl's.
# ALGORITHM is the cluster's (ClusterSpec.keyAlgorithm): the three kubeadm CAs, their leaves and the service-account
# key. Rancher's ingress CA and serving certificate stay ECDSA P-256 whatever ALGORITHM is, as in the example app.
set -euo pipefail

algorithm=${1:?usage: openssl-baseline.sh ecdsa-p256|rsa-2048 OUTDIR}
out=${2:?usage: openssl-baseline.sh ecdsa-p256|rsa-2048 OUTDIR}
[[ -d $out ]] || { echo "openssl-baseline.sh: $out: not a directory" >&2; exit 2; }
cd "$out"

keyopts() {
  case $1 in
    ecdsa-p256) echo "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" ;;
    rsa-2048) echo "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" ;;
    *) echo "unknown algorithm: $1 (ecdsa-p256 or rsa-2048)" >&2; exit 2 ;;
  esac
}
cluster_keyopts=$(keyopts "$algorithm")
ingress_keyopts=$(keyopts ecdsa-p256)

# ca NAME CN KEYOPTS [SAN]: a self-signed CA, ten years.
ca() {
  # shellcheck disable=SC2086
  openssl genpkey $3 -out "$1.key" 2>/dev/null
  openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,digitalSignature,keyCertSign,cRLSign" \
    ${4:+-addext "subjectAltName=$4"} -out "$1.crt"
}

# leaf NAME CA SUBJECT EKU KEYOPTS [SAN]: a key, a CSR and the CA-signed certificate, one year.
leaf() {
  # shellcheck disable=SC2086
  openssl genpkey $5 -out "$1.key" 2>/dev/null
  openssl req -new -key "$1.key" -subj "$3" \
    -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=$4" \
    ${6:+-addext "subjectAltName=$6"} -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -sha256 -days 365 -copy_extensions copyall \
    -out "$1.crt" 2>/dev/null
}

k=$cluster_keyopts
ca kubernetes kubernetes "$k" DNS:kubernetes
ca etcd-ca etcd-ca "$k" DNS:etcd-ca
ca front-proxy-ca front-proxy-ca "$k" DNS:front-proxy-ca
# shellcheck disable=SC2086
openssl genpkey $k -out sa.key 2>/dev/null
openssl pkey -in sa.key -pubout -out sa.pub

leaf apiserver-kubelet-client kubernetes "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client" clientAuth "$k"
leaf apiserver-etcd-client etcd-ca "/CN=kube-apiserver-etcd-client" clientAuth "$k"
leaf front-proxy-client front-proxy-ca "/CN=front-proxy-client" clientAuth "$k"
leaf admin kubernetes "/O=kubeadm:cluster-admins/CN=kubernetes-admin" clientAuth "$k"
leaf super-admin kubernetes "/O=system:masters/CN=kubernetes-super-admin" clientAuth "$k"

for i in 1 2 3; do
  node=cp-$i ip=10.0.0.1$i
  leaf "$node-apiserver" kubernetes "/CN=kube-apiserver" serverAuth "$k" \
    "DNS:api.k8s.example.internal,DNS:$node,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1,IP:$ip,IP:10.0.0.10"
  leaf "$node-etcd-server" etcd-ca "/CN=$node" serverAuth,clientAuth "$k" "DNS:$node,DNS:localhost,IP:$ip,IP:127.0.0.1,IP:::1"
  leaf "$node-etcd-peer" etcd-ca "/CN=$node" serverAuth,clientAuth "$k" "DNS:$node,DNS:localhost,IP:$ip,IP:127.0.0.1,IP:::1"
  leaf "$node-etcd-healthcheck-client" etcd-ca "/CN=kube-etcd-healthcheck-client" clientAuth "$k"
  leaf "$node-controller-manager" kubernetes "/CN=system:kube-controller-manager" clientAuth "$k"
  leaf "$node-scheduler" kubernetes "/CN=system:kube-scheduler" clientAuth "$k"
  leaf "$node-kubelet" kubernetes "/O=system:nodes/CN=system:node:$node" clientAuth "$k"
done

ca ingress-ca example-ingress-ca "$ingress_keyopts"
leaf rancher ingress-ca "/CN=rancher.example.internal" serverAuth "$ingress_keyopts" DNS:rancher.example.internal
