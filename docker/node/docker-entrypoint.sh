#!/bin/sh
# Same calling convention as the official node image's entrypoint: run the arguments with node
# when the first one is an option or not a command on PATH (e.g. a script path).
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1" || true)" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
  set -- node "$@"
fi
exec "$@"
