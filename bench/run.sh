#!/usr/bin/env bash
# Runs apigate's load benchmark (see README.md in this directory).
#
#   bench/run.sh                 default run, a few minutes
#   bench/run.sh -quick          smoke test under a minute (CI)
#   bench/run.sh --no-install    never install anything
#   bench/run.sh -soak           soak test of apigate (about 6 minutes; -soak -quick: 30 s)
#   bench/run.sh -h              these options, then the driver's flags
#
# Without --no-install, wrk, nginx with njs and haproxy are installed with
# apt-get when they are missing, on Debian as root or with sudo. When
# one cannot be installed the run goes on without it: the driver falls back
# to its built-in closed-loop generator without wrk, and skips the nginx or
# l4 row with a note in the report. --with-nginx, which used to opt in to
# nginx, is still accepted and does nothing: nginx is measured by default.
set -euo pipefail
cd "$(dirname "$0")"

command_line="bench/run.sh${*:+ $*}"
install=1
soak=0
args=()
for a in "$@"; do
	case "$a" in
	--with-nginx) ;; # the default now; kept for old command lines
	--no-install) install=0 ;;
	-h | -help | --help)
		# run.sh's own options first, then the driver's flags.
		sed -n '2,/^set -e/p' run.sh | sed -e '$d' -e 's/^# \{0,1\}//' >&2
		args+=("$a")
		install=0
		;;
	-soak | --soak)
		soak=1
		args+=("$a")
		;;
	*) args+=("$a") ;;
	esac
done

# apt_install installs Debian packages, refreshing the package lists once if
# the first attempt fails; each apt-get is bounded so that a stuck mirror
# cannot hold the run.
apt_install() {
	local sudo=()
	if [ "$(id -u)" != 0 ]; then
		sudo=(sudo -n)
	fi
	if ! command -v apt-get >/dev/null || { [ ${#sudo[@]} != 0 ] && ! sudo -n true 2>/dev/null; }; then
		echo "run.sh: cannot install $* (needs apt-get, and root or sudo without a password)" >&2
		return 1
	fi
	echo "run.sh: installing $*" >&2
	local apt=(timeout 300 ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get -y -qq)
	"${apt[@]}" install "$@" >/dev/null 2>&1 ||
		{ "${apt[@]}" update >/dev/null 2>&1 && "${apt[@]}" install "$@" >/dev/null; }
}

# installed reports whether a program is on PATH or in the sbin directories
# (not on a non-root user's PATH on Debian).
installed() {
	command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ]
}

# The soak test measures apigate alone, with the built-in generator.
if [ "$install" = 1 ] && [ "$soak" = 0 ]; then
	installed wrk || apt_install wrk || echo "run.sh: wrk unavailable, using the built-in generator" >&2
	if ! installed nginx || ! ls /usr/lib/nginx/modules/ngx_http_js_module.so >/dev/null 2>&1; then
		apt_install nginx libnginx-mod-http-js || echo "run.sh: nginx or njs unavailable, the nginx row is skipped" >&2
	fi
	installed haproxy || apt_install haproxy || echo "run.sh: haproxy unavailable, the l4 row is skipped" >&2
fi

export BENCH_COMMAND="$command_line"
exec go run . ${args[@]+"${args[@]}"}
