#!/usr/bin/env bash
# Puts a Pulumi CLI on PATH for the end-to-end suite and the main job.
#
# Uses `pulumi` from PATH when there is one. Otherwise builds the CLI from the
# Go module github.com/pulumi/pulumi/pkg/v3 at a version matching the
# @pulumi/pulumi we develop against, because these machines cannot reach
# Pulumi's download site. The module carries `replace` directives, so
# `go install mod@version` refuses it: we build from a small wrapper module that
# requires it and repeats its non-local replaces. The result is cached in
# $PULUMI_CACHE_DIR (default ~/.cache/upstash-rotation/pulumi-<version>) and
# reused by later runs.
#
# The Node.js language host (pulumi-language-nodejs), which a plain
# `pulumi up` in a `runtime: nodejs` folder starts, is not served by the Go
# module proxy; it is built from its source kept in
# ../shared/vendor/pulumi-language-nodejs-<version>/ (ORIGIN.md there) into the
# same folder. The dynamic-provider plugin launcher
# (pulumi-resource-pulumi-nodejs) is written beside the CLI.
#
# The one-time build takes minutes: its Go output goes to $CACHE_DIR/build.log
# and a progress line is printed every 20 seconds instead.
# Prints the folder holding the binaries on its last line of stdout.
set -euo pipefail

PULUMI_GO_VERSION="${PULUMI_GO_VERSION:-v3.248.0}"
CACHE_DIR="${PULUMI_CACHE_DIR:-$HOME/.cache/upstash-rotation/pulumi-$PULUMI_GO_VERSION}"
BIN_DIR="$CACHE_DIR/bin"
REPO_DIR="$(cd "$(dirname "$0")/.." && pwd)"
LANGUAGE_HOST_SRC="${PULUMI_LANGUAGE_NODEJS_SRC:-$REPO_DIR/../shared/vendor/pulumi-language-nodejs-$PULUMI_GO_VERSION}"

# Runs "$@" with its output in the build log, printing a line every 20 s meanwhile.
with_progress() {
  local what="$1"
  shift
  mkdir -p "$CACHE_DIR"
  local started=$SECONDS
  "$@" >>"$CACHE_DIR/build.log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if (( (SECONDS - started) % 20 == 0 )); then
      echo "  … still building $what ($((SECONDS - started)) s; log: $CACHE_DIR/build.log)" >&2
    fi
  done
  if ! wait "$pid"; then
    echo "ensure-pulumi: building $what failed; last lines of $CACHE_DIR/build.log:" >&2
    tail -n 30 "$CACHE_DIR/build.log" >&2
    return 1
  fi
  echo "  built $what in $((SECONDS - started)) s" >&2
}

# pulumi-language-nodejs beside the CLI in "$1", built from the vendored source once.
ensure_language_host() {
  local dir="$1"
  [ -x "$dir/pulumi-language-nodejs" ] && return 0
  if [ ! -f "$LANGUAGE_HOST_SRC/main.go" ]; then
    echo "ensure-pulumi: no pulumi-language-nodejs beside $dir/pulumi and no source at $LANGUAGE_HOST_SRC" >&2
    return 1
  fi
  echo "building pulumi-language-nodejs from $LANGUAGE_HOST_SRC (first run only)" >&2
  local work="$CACHE_DIR/language-host"
  rm -rf "$work" && mkdir -p "$work" && cp -r "$LANGUAGE_HOST_SRC/." "$work/"
  (cd "$work" && with_progress pulumi-language-nodejs \
    env GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN=local \
    go build -trimpath -o "$dir/pulumi-language-nodejs" .)
}

write_plugin_launcher() {
  local dir="$1"
  if [ ! -x "$dir/pulumi-resource-pulumi-nodejs" ]; then
    cat >"$dir/pulumi-resource-pulumi-nodejs" <<'LAUNCHER'
#!/bin/sh
# Runs @pulumi/pulumi's dynamic-provider host, resolved from the program's folder.
exec node "$(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))")" "$@"
LAUNCHER
    chmod +x "$dir/pulumi-resource-pulumi-nodejs"
  fi
}

if [ -z "${PULUMI_FORCE_BUILD:-}" ] && command -v pulumi >/dev/null 2>&1 && [ "$(command -v pulumi)" != "$BIN_DIR/pulumi" ]; then
  echo "using pulumi from PATH: $(command -v pulumi)" >&2
  dirname "$(command -v pulumi)"
  exit 0
fi

if [ -x "$BIN_DIR/pulumi" ]; then
  write_plugin_launcher "$BIN_DIR"
  ensure_language_host "$BIN_DIR"
  echo "using cached pulumi $("$BIN_DIR/pulumi" version)" >&2
  echo "$BIN_DIR"
  exit 0
fi

command -v go >/dev/null 2>&1 || { echo "ensure-pulumi: neither pulumi nor go is on PATH" >&2; exit 1; }

echo "building pulumi $PULUMI_GO_VERSION from Go modules into $BIN_DIR (first run only, a few minutes)" >&2
WORK="$CACHE_DIR/wrapper"
mkdir -p "$WORK" "$BIN_DIR"
cd "$WORK"
cat >go.mod <<GOMOD
module localbuild/pulumi-cli

go 1.25

require (
	github.com/pulumi/pulumi/pkg/v3 $PULUMI_GO_VERSION
	github.com/pulumi/pulumi/sdk/v3 $PULUMI_GO_VERSION
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
GOMOD
cat >tools.go <<'GOSRC'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GOSRC
# The checksum database is not reachable through the module proxy here.
export GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
with_progress "module list" go mod tidy -e || true
with_progress "pulumi CLI" go build -trimpath -o "$BIN_DIR/pulumi" \
  -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${PULUMI_GO_VERSION}" \
  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
write_plugin_launcher "$BIN_DIR"
ensure_language_host "$BIN_DIR"
echo "built $("$BIN_DIR/pulumi" version)" >&2
echo "$BIN_DIR"
