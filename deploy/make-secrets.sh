#!/usr/bin/env bash
# make-secrets.sh DIR NAME... : the TLS material and cluster token a ferry
# cluster needs, made with openssl on the host (the ferry image has no
# shell to run this in). Writes into DIR:
#   ca.crt ca.key        a private CA (keep ca.key offline after this)
#   master.crt master.key the master's certificate, valid for every NAME
#                        (DNS names, or IP addresses)
#   token                the shared cluster token (64 hex characters)
# Existing files are kept, so running it again does not rotate anything.
#
#   deploy/make-secrets.sh deploy/compose/secrets master localhost 127.0.0.1
#   deploy/make-secrets.sh ferry-secrets ferry-master ferry-master.ferry.svc \
#       ferry-master.ferry.svc.cluster.local
set -euo pipefail
if [ $# -lt 2 ]; then
	echo "usage: $0 DIR NAME..." >&2
	exit 2
fi
dir=$1
shift
mkdir -p "$dir"
cd "$dir"
umask 077

san=""
for n in "$@"; do
	if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then
		san+="${san:+,}IP:$n"
	else
		san+="${san:+,}DNS:$n"
	fi
done

if [ ! -e ca.crt ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
		-subj "/CN=ferry CA" -keyout ca.key -out ca.crt 2>/dev/null
fi
if [ ! -e master.crt ]; then
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$1" -keyout master.key -out master.csr 2>/dev/null
	openssl x509 -req -in master.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
		-extfile <(printf "subjectAltName=%s\nextendedKeyUsage=serverAuth" "$san") -out master.crt 2>/dev/null
	rm -f master.csr
fi
if [ ! -e token ]; then
	openssl rand -hex 32 >token
fi
echo "wrote $(pwd): ca.crt ca.key master.crt master.key token (master names: $*)"
