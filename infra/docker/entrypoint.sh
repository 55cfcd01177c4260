#!/bin/sh
# Entry point of the Free Lunch service images. On ECS the database password and the Redis auth
# token arrive from Secrets Manager as variables of their own (DB_PASSWORD, REDIS_AUTH_TOKEN) next to
# the endpoints (DB_HOST, REDIS_HOST, ...); the services read whole URLs, so this builds
# DATABASE_URL and REDIS_URL from those parts. When the URLs are given whole (docker compose, local
# runs) it changes nothing. The generated secrets contain no URL-reserved characters (see infra/).
set -eu

if [ -z "${DATABASE_URL:-}" ] && [ -n "${DB_HOST:-}" ]; then
  DATABASE_URL="postgresql://${DB_USER}:${DB_PASSWORD:-}@${DB_HOST}:${DB_PORT:-5432}/${DB_NAME:-free_lunch}${DB_OPTIONS:+?${DB_OPTIONS}}"
  export DATABASE_URL
fi
# The schema owner, for migrations at start-up (the service itself logs in as DB_USER, which may
# only read and write its tables), and the admin, for the one-off provisioning run.
if [ -z "${MIGRATION_DATABASE_URL:-}" ] && [ -n "${DB_HOST:-}" ] && [ -n "${DB_OWNER_USER:-}" ]; then
  MIGRATION_DATABASE_URL="postgresql://${DB_OWNER_USER}:${DB_OWNER_PASSWORD:-}@${DB_HOST}:${DB_PORT:-5432}/${DB_NAME:-free_lunch}${DB_OPTIONS:+?${DB_OPTIONS}}"
  export MIGRATION_DATABASE_URL
fi
if [ -z "${DATABASE_ADMIN_URL:-}" ] && [ -n "${DB_HOST:-}" ] && [ -n "${DB_ADMIN_USER:-}" ]; then
  DATABASE_ADMIN_URL="postgresql://${DB_ADMIN_USER}:${DB_ADMIN_PASSWORD:-}@${DB_HOST}:${DB_PORT:-5432}/${DB_NAME:-free_lunch}${DB_OPTIONS:+?${DB_OPTIONS}}"
  export DATABASE_ADMIN_URL
fi
# On ElastiCache each service logs in as its own RBAC user (REDIS_USER) with that user's password;
# without a user name the password is a plain AUTH token.
if [ -z "${REDIS_URL:-}" ] && [ -n "${REDIS_HOST:-}" ]; then
  REDIS_URL="${REDIS_SCHEME:-rediss}://${REDIS_AUTH_TOKEN:+${REDIS_USER:-}:${REDIS_AUTH_TOKEN}@}${REDIS_HOST}:${REDIS_PORT:-6379}"
  export REDIS_URL
fi
# The URLs carry them now; nothing else in the process needs them on their own.
unset DB_PASSWORD DB_OWNER_PASSWORD DB_ADMIN_PASSWORD REDIS_AUTH_TOKEN

exec "$@"
