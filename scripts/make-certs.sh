#!/usr/bin/env bash
# make-certs.sh DIR — makes a throwaway CA and a server certificate for
# localhost (DNS:localhost, IP:127.0.0.1) for the key server's TLS.
set -euo pipefail
dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -days 30 -subj "/CN=nsvault throwaway CA" \
	-keyout ca.key -out ca.crt 2>/dev/null
openssl req -new "${ec[@]}" -subj "/CN=localhost" \
	-keyout server.key -out server.csr 2>/dev/null
printf '%s\n' 'subjectAltName = DNS:localhost, IP:127.0.0.1' \
	'basicConstraints = CA:FALSE' \
	'keyUsage = digitalSignature, keyEncipherment' \
	'extendedKeyUsage = serverAuth' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
	-days 30 -extfile server.ext -out server.crt 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 644 ca.crt server.crt
