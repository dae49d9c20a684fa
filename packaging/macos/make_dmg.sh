#!/usr/bin/env bash
# Put the macOS app into a disk image: dist/dialer-<version>-macos-<arch>.dmg.
#
#   .venv/bin/pyinstaller --noconfirm --clean packaging/dialer.spec   # gives dist/Dialer.app
#   packaging/macos/make_dmg.sh [dist/Dialer.app]
#
# With MACOS_SIGNING_IDENTITY set, the app is signed before it goes into the image, and the
# image is then signed, notarised and stapled (packaging/macos/sign_and_notarize.sh, which
# says which other variables it needs and refuses without them). Without it, the image is
# UNSIGNED: fine for testing on your own Mac (right-click > Open), not for distribution.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
app=${1:-$root/dist/Dialer.app}

if [ ! -d "$app" ]; then
    echo "make_dmg.sh: no app at $app; build it with: pyinstaller packaging/dialer.spec" >&2
    exit 2
fi
version=$(/usr/libexec/PlistBuddy -c "Print :CFBundleShortVersionString" "$app/Contents/Info.plist")
arch=$(uname -m)
dmg="$root/dist/dialer-$version-macos-$arch.dmg"

signed=no
if [ -n "${MACOS_SIGNING_IDENTITY:-}" ]; then
    "$here/sign_and_notarize.sh" app "$app"
    signed=yes
else
    echo "make_dmg.sh: MACOS_SIGNING_IDENTITY is not set: building an UNSIGNED image," \
        "for testing only" >&2
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
ditto "$app" "$stage/Dialer.app"  # keeps symlinks, permissions and the signature
ln -s /Applications "$stage/Applications"
rm -f "$dmg"
hdiutil create -volname "Dialer $version" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg"

if [ "$signed" = yes ]; then
    "$here/sign_and_notarize.sh" dmg "$dmg"
fi
echo "$dmg ($(du -h "$dmg" | cut -f1), signed: $signed)"
