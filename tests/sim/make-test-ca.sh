#!/bin/sh
# make-test-ca.sh DIR [NODES] - test PKI for heapster-sim's TLS options (openssl).
#
# Writes into DIR (created if needed):
#   ca.crt, ca.key          CA "heapster-sim test CA" (EC P-256, 10 years)
#   server.crt, server.key  serving certificate signed by the CA: CN=heapster-sim,
#                           SAN DNS:localhost, IP:127.0.0.1 and the kubelet
#                           address of nodes 0..NODES-1 (default 250:
#                           127.0.1.1-127.0.1.250; node i is 127.0.(1+i/250).(1+i%250))
#   client.crt, client.key  client certificate CN=heapster, O=system:masters
#   other-ca.crt            an unrelated CA, and other-client.crt/.key, a client
#                           certificate CN=heapster it signed (must get 401)
#
#   heapster-sim --tls-cert DIR/server.crt --tls-key DIR/server.key \
#                --client-ca DIR/ca.crt [--token T] \
#                [--tls-ca-cert DIR/ca.crt --tls-ca-key DIR/ca.key]
#
# With --tls-ca-cert/--tls-ca-key every kubelet presents its own certificate
# for its own address (any node count); without them the kubelets present
# server.crt, valid for the first NODES nodes only (NODES <= 15000: OpenSSL
# clients refuse bigger certificates).  Clients verify with
# --cacert DIR/ca.crt against the address they dial: no resolve overrides.
set -eu
dir=${1:?usage: make-test-ca.sh DIR [NODES]}
nodes=${2:-250}
case $nodes in ''|*[!0-9]*) echo "NODES must be a number" >&2; exit 2;; esac
# 6 bytes of DER per IP: OpenSSL clients (curl, python, libcurl) refuse a
# certificate message over 100 KB, about 16000 IPs; beyond that let the
# simulator mint per-node certificates (--tls-ca-cert/--tls-ca-key)
[ "$nodes" -le 15000 ] || { echo "NODES must be at most 15000 (certificate size); for more nodes use heapster-sim --tls-ca-cert/--tls-ca-key" >&2; exit 2; }
mkdir -p "$dir"
cd "$dir"
days=3650

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days $days -subj "/CN=heapster-sim test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" -out ca.crt

# server: SANs in an extension file (a few thousand IPs do not fit -addext)
{
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth"
    echo "subjectKeyIdentifier=hash"
    echo "authorityKeyIdentifier=keyid:always"
    printf "subjectAltName=DNS:localhost,IP:127.0.0.1"
    i=0
    while [ $i -lt "$nodes" ]; do
        printf ",IP:127.0.%d.%d" $((1 + i / 250)) $((1 + i % 250))
        i=$((i + 1))
    done
    echo
} > server.ext
key server.key
openssl req -new -key server.key -subj "/CN=heapster-sim" -out server.csr
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days $days \
    -extfile server.ext -out server.crt 2>/dev/null

printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=clientAuth" > client.ext
key client.key
openssl req -new -key client.key -subj "/O=system:masters/CN=heapster" -out client.csr
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days $days \
    -extfile client.ext -out client.crt 2>/dev/null

# an unrelated CA and a client certificate from it: the server must refuse it
key other-ca.key
openssl req -x509 -new -key other-ca.key -sha256 -days $days -subj "/CN=some other CA" \
    -addext "basicConstraints=critical,CA:TRUE" -out other-ca.crt
key other-client.key
openssl req -new -key other-client.key -subj "/O=system:masters/CN=heapster" -out other-client.csr
openssl x509 -req -in other-client.csr -CA other-ca.crt -CAkey other-ca.key -CAcreateserial \
    -sha256 -days $days -extfile client.ext -out other-client.crt 2>/dev/null

rm -f ./*.csr ./*.ext ./*.srl other-ca.key
chmod 600 ./*.key
echo "make-test-ca: $(pwd): ca.crt server.crt (127.0.0.1 + $nodes kubelet IPs) client.crt (CN=heapster) other-client.crt"
