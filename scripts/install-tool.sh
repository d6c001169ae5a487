#!/usr/bin/env bash
# Installs a pinned Go tool into the project's git-ignored cache
# (.cache/bin, or $FERRY_CACHE/bin) unless that exact version is already
# there. Everything comes from the Go module proxy; nothing else is fetched.
#
#   scripts/install-tool.sh versitygw | staticcheck | rclone | all
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${FERRY_CACHE:-$root/.cache}
bin=$cache/bin
mkdir -p "$bin"

# The one place tool versions are pinned.
declare -A pkg=(
	[versitygw]=github.com/versity/versitygw/cmd/versitygw@v1.8.0
	[staticcheck]=honnef.co/go/tools/cmd/staticcheck@v0.8.2
	[protoc-gen-go]=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	[protoc-gen-go-grpc]=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
	# The peer `make bench` measures ferry against (a big build: minutes).
	[rclone]=github.com/rclone/rclone@v1.76.0
)

install() {
	local name=$1 spec=${pkg[$1]:-}
	if [ -z "$spec" ]; then
		echo "install-tool: unknown tool '$name' (known: ${!pkg[*]})" >&2
		exit 2
	fi
	local stamp=$bin/.$name.version
	if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$spec" ]; then
		return 0
	fi
	echo "install-tool: go install $spec -> $bin" >&2
	GOBIN=$bin GOFLAGS=-mod=mod go install "$spec"
	echo "$spec" >"$stamp"
}

# protoc itself comes from Debian (protobuf-compiler); `make proto` needs it.
if [ "${1:-all}" = all ]; then
	for n in "${!pkg[@]}"; do install "$n"; done
else
	for n in "$@"; do install "$n"; done
fi
