#!/usr/bin/env bash
# Runs apigate's load benchmark (see README.md in this directory).
#
#   bench/run.sh                 default run, a few minutes
#   bench/run.sh -quick          smoke test under a minute (CI)
#   bench/run.sh --with-nginx    also install nginx and njs (Debian) and measure them
#   bench/run.sh --no-install    never install anything (wrk included)
#   bench/run.sh -soak           soak test of apigate (about 6 minutes; -soak -quick: 30 s)
#   bench/run.sh -h              the driver's flags
#
# Without --no-install, wrk is installed with apt-get when it is missing and
# the script runs as root on Debian; otherwise the driver falls back to its
# built-in closed-loop generator and says so in the report.
set -euo pipefail
cd "$(dirname "$0")"

command_line="bench/run.sh${*:+ $*}"
install=1
with_nginx=0
args=()
for a in "$@"; do
	case "$a" in
	--with-nginx) with_nginx=1 ;;
	--no-install) install=0 ;;
	*) args+=("$a") ;;
	esac
done

# apt_install installs Debian packages, refreshing the package lists once if
# the first attempt fails.
apt_install() {
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "run.sh: cannot install $* (needs root and apt-get)" >&2
		return 1
	fi
	echo "run.sh: installing $*" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}

if [ "$install" = 1 ]; then
	command -v wrk >/dev/null || apt_install wrk || echo "run.sh: wrk unavailable, using the built-in generator" >&2
	if [ "$with_nginx" = 1 ]; then
		apt_install nginx libnginx-mod-http-js || echo "run.sh: nginx unavailable, its row is skipped" >&2
	fi
fi

export BENCH_COMMAND="$command_line"
exec go run . ${args[@]+"${args[@]}"}
