# shellcheck shell=bash
# The Debian 12 packages sceau builds, runs and tests with. Installed
# when missing and running as root; otherwise listed for the user.

SC_PKGS_BUILD="build-essential cmake pkg-config clang libclang-rt-14-dev
libssl-dev openssl libp11-dev libengine-pkcs11-openssl libp11-kit-dev
libpq-dev libxml2-dev libxmlsec1-dev libxmlsec1-openssl libqpdf-dev
libmicrohttpd-dev libjansson-dev zlib1g-dev check libsubunit-dev
libqrencode-dev"
SC_PKGS_RUN="postgresql-15 postgresql-client-15 softhsm2 opensc curl"
SC_PKGS_TEST="poppler-utils xmlsec1 qpdf libnss3-tools ghostscript chromium
fonts-dejavu-core"

# sc_deps_install KIND...: KIND among build run test.
sc_deps_install() {
	local want="" missing="" p
	for k in "$@"; do
		case $k in
		build) want="$want $SC_PKGS_BUILD" ;;
		run) want="$want $SC_PKGS_RUN" ;;
		test) want="$want $SC_PKGS_TEST" ;;
		esac
	done
	for p in $want; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "sceau: paquets manquants / missing packages:$missing" >&2
		echo "sceau: installez-les (apt-get install) puis relancez." >&2
		return 1
	fi
	echo "sceau: installation de / installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null &&
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# sc_build DIR [CMAKE ARGS...]: configures once and builds.
sc_build() {
	local dir=$1
	shift
	local root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	if [ ! -f "$dir/CMakeCache.txt" ]; then
		cmake -S "$root" -B "$dir" "$@" >"$dir.cmake.log" 2>&1 ||
			{ cat "$dir.cmake.log" >&2; return 1; }
		rm -f "$dir.cmake.log"
	fi
	cmake --build "$dir" -j "$(nproc)" >"$dir.build.log" 2>&1 ||
		{ tail -40 "$dir.build.log" >&2; return 1; }
	rm -f "$dir.build.log"
}

# sc_npm_install DIR...: the Node packages of the interop tests (xadesjs,
# pdf-lib, playwright-core without a browser download), from their lock
# files. Node.js itself comes from Debian when the machine has none.
sc_npm_install() {
	local d
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || { echo "sceau: node and npm are needed" >&2; return 1; }
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null || return 1
	fi
	for d in "$@"; do
		[ -f "$d/package.json" ] || continue
		if [ -f "$d/package-lock.json" ]; then
			(cd "$d" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null) || return 1
		else
			(cd "$d" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error >/dev/null) || return 1
		fi
	done
}
