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
# The language hosts a plain `pulumi up` starts for a project's `runtime:` are
# built into the same folder, each once (a cache from an older run that lacks
# one gets it on the next run):
# - pulumi-language-nodejs, -python and -go are not served by the Go module
#   proxy; each is built from its source kept in
#   ../shared/vendor/pulumi-language-<lang>-<version>/ (ORIGIN.md there;
#   PULUMI_LANGUAGE_<LANG>_SRC overrides the folder). The Python host's
#   companion script, pulumi-language-python-exec, is copied from the Go
#   module github.com/pulumi/pulumi/sdk/v3.
# - pulumi-language-yaml comes from the Go module github.com/pulumi/pulumi-yaml
#   ($PULUMI_YAML_VERSION, default v1.38.0), built from its own wrapper module
#   because it needs a newer github.com/pulumi/pulumi/pkg/v3 than the CLI.
# The dynamic-provider plugin launcher (pulumi-resource-pulumi-nodejs) is
# written beside the CLI.
#
# The one-time builds take minutes: their Go output goes to $CACHE_DIR/build.log
# and a progress line is printed every 20 seconds instead.
# Prints the folder holding the binaries on its last line of stdout.
set -euo pipefail

PULUMI_GO_VERSION="${PULUMI_GO_VERSION:-v3.248.0}"
CACHE_DIR="${PULUMI_CACHE_DIR:-$HOME/.cache/upstash-rotation/pulumi-$PULUMI_GO_VERSION}"
BIN_DIR="$CACHE_DIR/bin"
REPO_DIR="$(cd "$(dirname "$0")/.." && pwd)"
PULUMI_YAML_VERSION="${PULUMI_YAML_VERSION:-v1.38.0}"
LANGUAGES=(nodejs python go yaml)

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

# pulumi-language-"$2" beside the CLI in "$1", built once: yaml from its Go module,
# the others from the vendored source.
ensure_language_host() {
  local dir="$1" lang="$2"
  local host="pulumi-language-$lang"
  [ -x "$dir/$host" ] && return 0
  command -v go >/dev/null 2>&1 || { echo "ensure-pulumi: no $host beside $dir/pulumi and no go on PATH to build it" >&2; return 1; }
  if [ "$lang" = yaml ]; then
    echo "building $host from github.com/pulumi/pulumi-yaml $PULUMI_YAML_VERSION (first run only, a few minutes)" >&2
    local work="$CACHE_DIR/yaml-wrapper"
    rm -rf "$work" && mkdir -p "$work"
    # pulumi-yaml's own go.mod has no replaces. The host does import
    # github.com/atotto/clipboard through pulumi/pkg, whose go.mod replaces it with this
    # fork (as the CLI's wrapper below does); a dependency's replaces are ignored, so repeat it.
    cat >"$work/go.mod" <<GOMOD
module localbuild/pulumi-language-yaml

go 1.25

require github.com/pulumi/pulumi-yaml $PULUMI_YAML_VERSION

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
GOMOD
    cat >"$work/tools.go" <<'GOSRC'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
GOSRC
    (cd "$work" && export GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN=local &&
      { with_progress "$host module list" go mod tidy -e || true; } &&
      with_progress "$host" go build -trimpath -o "$dir/$host" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml)
    return
  fi
  local src_var="PULUMI_LANGUAGE_${lang^^}_SRC"
  local src="${!src_var:-$REPO_DIR/../shared/vendor/pulumi-language-$lang-$PULUMI_GO_VERSION}"
  if [ ! -f "$src/main.go" ]; then
    echo "ensure-pulumi: no $host beside $dir/pulumi and no source at $src" >&2
    return 1
  fi
  echo "building $host from $src (first run only)" >&2
  local work="$CACHE_DIR/language-host-$lang"
  rm -rf "$work" && mkdir -p "$work" && cp -r "$src/." "$work/"
  (cd "$work" && with_progress "$host" \
    env GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN=local \
    go build -trimpath -o "$dir/$host" .)
}

# pulumi-language-python runs programs through pulumi-language-python-exec, a Python
# script it expects beside itself. Pulumi ships it in the Go module
# github.com/pulumi/pulumi/sdk/v3 (python/cmd/), which the CLI build has downloaded.
write_python_exec() {
  local dir="$1"
  [ -f "$dir/pulumi-language-python-exec" ] && return 0
  local sdk
  sdk="$(GOSUMDB=off GOTOOLCHAIN=local go mod download -json "github.com/pulumi/pulumi/sdk/v3@$PULUMI_GO_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" || true
  if [ ! -f "$sdk/python/cmd/pulumi-language-python-exec" ]; then
    echo "ensure-pulumi: no python/cmd/pulumi-language-python-exec in github.com/pulumi/pulumi/sdk/v3@$PULUMI_GO_VERSION" >&2
    return 1
  fi
  install -m 755 "$sdk/python/cmd/pulumi-language-python-exec" "$dir/pulumi-language-python-exec"
}

ensure_language_hosts() {
  local lang
  for lang in "${LANGUAGES[@]}"; do
    ensure_language_host "$1" "$lang"
  done
  write_python_exec "$1"
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
  ensure_language_hosts "$BIN_DIR"
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
ensure_language_hosts "$BIN_DIR"
echo "built $("$BIN_DIR/pulumi" version)" >&2
echo "$BIN_DIR"
