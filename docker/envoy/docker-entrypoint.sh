#!/bin/sh
# Same calling convention as the official image's entrypoint: arguments that start with '-'
# are Envoy's, and $loglevel adds --log-level. Unlike the official image it does not switch to
# the 'envoy' user (there is no su-exec here): the process runs as the container's user.
set -e
if [ "${1#-}" != "$1" ]; then
  set -- envoy "$@"
fi
if [ "$1" = envoy ] && [ -n "${loglevel:-}" ]; then
  set -- "$@" --log-level "$loglevel"
fi
exec "$@"
