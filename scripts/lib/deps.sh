# shellcheck shell=bash
# The Debian 12 packages sceau builds, runs and tests with. Installed
# when missing and running as root; otherwise listed for the user.

SC_PKGS_BUILD="build-essential cmake pkg-config clang libclang-rt-14-dev
libssl-dev openssl libp11-dev libengine-pkcs11-openssl libp11-kit-dev
libpq-dev libxml2-dev libxmlsec1-dev libxmlsec1-openssl libqpdf-dev
libmicrohttpd-dev libjansson-dev zlib1g-dev check libsubunit-dev
libqrencode-dev"
SC_PKGS_RUN="postgresql-15 postgresql-client-15 softhsm2 opensc curl"
SC_PKGS_TEST="poppler-utils xmlsec1 qpdf"

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
