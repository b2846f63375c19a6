#!/bin/sh
# make-deb.sh - build the Debian package: hikyaku_VERSION_ARCH.deb in the
# top directory, from the working tree (tracked and untracked files that
# git does not ignore), with dpkg-buildpackage -us -uc -b in a copy under
# build-deb/ (dpkg-buildpackage writes next to the source tree, and the
# parent of a checkout is not ours to litter). Installs the build
# dependencies first (needs root, or sudo).
set -eu
cd "$(dirname "$0")/.."
top=$PWD
out=${DEB_OUT:-$top}
work=$top/build-deb

scripts/install-deps.sh deb
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
rm -rf "$work"
mkdir -p "$work/hikyaku-$version"
git ls-files -z --cached --others --exclude-standard | xargs -0 -r sh -c \
	'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
	tar --null -T - -cf - | tar -xf - -C "$work/hikyaku-$version"
(cd "$work/hikyaku-$version" && dpkg-buildpackage -us -uc -b)
deb=hikyaku_${version}_${arch}.deb
cp "$work/$deb" "$out/$deb"
echo "built $out/$deb"
