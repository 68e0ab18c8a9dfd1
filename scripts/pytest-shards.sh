#!/usr/bin/env bash
# Run several pytest invocations at once and report each: `pytest-shards.sh <python> <name>=<args> ...`.
# Each shard's args are word-split (test paths and options, no quoting); SHARD_MARKEXPR, when set, is passed
# to every shard as its `-m` expression; a shard whose name starts with `async` runs with
# MASTRA_DYNAMO_API=async. Every shard writes its own log (.pytest-<name>.log); the last line of each is
# printed, and the whole log of a shard that failed. Exits non-zero when any shard failed.
# The test suites share nothing but the endpoints (each test makes its own table), so they can overlap: the
# sync suite alone keeps about one of CI's two cores busy.
set -uo pipefail

python=$1
shift
names=()
pids=()
marks=()
if [[ -n ${SHARD_MARKEXPR:-} ]]; then
    marks=(-m "$SHARD_MARKEXPR")
fi
for shard in "$@"; do
    name=${shard%%=*}
    args=${shard#*=}
    log=".pytest-$name.log"
    if [[ $name == async* ]]; then
        # shellcheck disable=SC2086
        MASTRA_DYNAMO_API=async "$python" -m pytest "${marks[@]}" $args >"$log" 2>&1 &
    else
        # shellcheck disable=SC2086
        "$python" -m pytest "${marks[@]}" $args >"$log" 2>&1 &
    fi
    names+=("$name")
    pids+=("$!")
done

status=0
for i in "${!pids[@]}"; do
    name=${names[$i]}
    log=".pytest-$name.log"
    if wait "${pids[$i]}"; then
        echo "pytest $name: $(tail -n 1 "$log")"
    else
        cat "$log"
        echo "pytest $name: FAILED (log above, also in $log)" >&2
        status=1
    fi
done
exit $status
