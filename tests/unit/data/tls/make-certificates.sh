#!/bin/sh
# Makes the TLS files of the unit tests (committed, so the tests need no openssl at run time):
# a test CA, a certificate for 127.0.0.1 and localhost that it signs, and another CA that signs
# nothing here. Valid for 100 years; test-only keys that protect nothing.
set -eu
cd "$(dirname "$0")"
days=36500
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days $days \
  -subj "/CN=Imagegen test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr \
  -subj "/CN=127.0.0.1"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server.pem \
  -days $days -extfile server.ext
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca-key.pem -out other-ca.pem -days $days \
  -subj "/CN=Imagegen unrelated test CA" -addext "basicConstraints=critical,CA:TRUE"
rm -f server.csr server.ext ca.srl ca-key.pem other-ca-key.pem
