#!/bin/sh
# Installs every Debian package that berth's build, runtime and tests need.
# Idempotent: packages already present are skipped, and apt is only asked when
# something is missing. Run as root (or through sudo).
set -eu

PKGS="build-essential pkg-config clang llvm libclang-rt-14-dev
libh2o-dev libuv1-dev libjansson-dev libarchive-dev libssl-dev
libcurl4-openssl-dev libgit2-dev libfyaml-dev libmnl-dev libnftables-dev libcmocka-dev libdeflate-dev
runc tini busybox-static bats docker-registry skopeo iptables iproute2
nftables util-linux procps psmisc curl socat jq tmux bash-completion gnuplot-nox
python3-jwt python3-cryptography python3-websocket"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
