#!/bin/sh
# Makes the demo files of this directory with openssl, standing in for what a company CA hands over: a root, an
# intermediate that signs, and Rancher's certificate with its key. Run from this directory; it overwrites them.
#   rancher.crt  Rancher's certificate, then the intermediate (no root): tls.crt of Secret tls-rancher-ingress
#   rancher.key  its key
#   cacerts.pem  the intermediate, then the root: cacerts.pem of Secret tls-ca
# The keys are demo keys (gitignored, as a real key must be); never use them.
set -eu
HOSTNAME=rancher.example.internal
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/root.key" -out "$work/root.crt" -days 7300 \
  -subj '/O=Example Corp/CN=Example Corp Root CA' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'

openssl req -new -newkey rsa:2048 -nodes -keyout "$work/intermediate.key" -out "$work/intermediate.csr" \
  -subj '/O=Example Corp/CN=Example Corp Issuing CA 1'
openssl x509 -req -in "$work/intermediate.csr" -CA "$work/root.crt" -CAkey "$work/root.key" -CAcreateserial \
  -days 3650 -out "$work/intermediate.crt" -extfile /dev/stdin <<EXT
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT

openssl req -new -newkey rsa:2048 -nodes -keyout rancher.key -out "$work/rancher.csr" -subj "/O=Example Corp/CN=$HOSTNAME"
openssl x509 -req -in "$work/rancher.csr" -CA "$work/intermediate.crt" -CAkey "$work/intermediate.key" -CAcreateserial \
  -days 1825 -out "$work/rancher-leaf.crt" -extfile /dev/stdin <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$HOSTNAME
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT

cat "$work/rancher-leaf.crt" "$work/intermediate.crt" > rancher.crt
cat "$work/intermediate.crt" "$work/root.crt" > cacerts.pem
chmod 600 rancher.key
