#!/usr/bin/env bash
# Installs the Debian packages simvirt needs to build and test, only those
# that are missing.  Idempotent; run as root (or through sudo) on a fresh
# Debian bookworm machine.  With --check it only reports what is missing.
set -euo pipefail

packages=(
	build-essential
	cmake
	pkg-config
	libglib2.0-dev
	libunicorn-dev
	libcapstone-dev
	zlib1g-dev
	liblzma-dev
	libzstd-dev
	libelf-dev
	libsqlite3-dev
	libjson-glib-dev
	check
	libsubunit-dev
	libcairo2-dev
	fonts-dejavu-core
	doxygen
	valgrind
	busybox-static
	clang
	libclang-rt-14-dev
	parallel
	slurm-wlm
	munge
	python3
	python3-cffi
	python3-pytest
	python3-numpy
	python3-pandas
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "${1:-}" = "--check" ]; then
	echo "missing packages: ${missing[*]}" >&2
	exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "install-deps: need root to install: ${missing[*]}" >&2
		exit 1
	fi
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
