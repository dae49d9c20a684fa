#!/usr/bin/env bash
# Sign the macOS app, or sign, notarise and staple its disk image. Driven by environment
# variables only; no secret is in the repository, and none is ever printed (no `set -x`).
#
#   packaging/macos/sign_and_notarize.sh app dist/Dialer.app
#   packaging/macos/sign_and_notarize.sh dmg dist/dialer-<version>-macos-<arch>.dmg
#
# Both need:
#   MACOS_SIGNING_IDENTITY  the "Developer ID Application: NAME (TEAMID)" certificate's name,
#                           in a keychain of this machine (CI imports it first; see
#                           .github/workflows/build.yml)
# Optional:
#   MACOS_ENTITLEMENTS      an entitlements .plist for the hardened runtime
# "dmg" also notarises, with either
#   APPLE_NOTARY_PROFILE    a keychain profile made once with `xcrun notarytool
#                           store-credentials PROFILE` (it prompts for the password, so the
#                           password is never on a command line: the way for a developer's Mac)
# or all three of
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD  (an app-specific password; the way for CI,
#                           whose secrets live only in that short-lived runner's environment)
#
# It refuses, naming what is missing, when a variable it needs is not set.
set -euo pipefail

usage() {
    echo "usage: $0 app PATH.app | dmg PATH.dmg" >&2
    exit 2
}

require() {
    local missing=()
    for name in "$@"; do
        if [ -z "${!name:-}" ]; then
            missing+=("$name")
        fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "sign_and_notarize.sh: ${missing[*]} not set; refusing to go on" \
            "(see the top of this script for what each one is)" >&2
        exit 2
    fi
}

sign() {
    local target=$1
    local options=(--force --timestamp --options runtime --sign "$MACOS_SIGNING_IDENTITY")
    if [ -n "${MACOS_ENTITLEMENTS:-}" ]; then
        options+=(--entitlements "$MACOS_ENTITLEMENTS")
    fi
    if [ -d "$target" ]; then
        options+=(--deep)
    fi
    codesign "${options[@]}" "$target"
    codesign --verify --strict --verbose=1 "$target"
    echo "signed $target"
}

notarise() {
    local target=$1
    local credentials
    if [ -n "${APPLE_NOTARY_PROFILE:-}" ]; then
        credentials=(--keychain-profile "$APPLE_NOTARY_PROFILE")
    else
        require APPLE_ID APPLE_TEAM_ID APPLE_APP_PASSWORD
        credentials=(--apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID"
            --password "$APPLE_APP_PASSWORD")
    fi
    echo "submitting $target to Apple's notary service (this takes a few minutes)"
    local result
    result=$(xcrun notarytool submit "$target" "${credentials[@]}" --wait --output-format json)
    local status id
    status=$(printf '%s' "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status",""))')
    id=$(printf '%s' "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("id",""))')
    if [ "$status" != "Accepted" ]; then
        echo "sign_and_notarize.sh: notarisation of $target ended '$status' (submission $id);" \
            "Apple's log follows" >&2
        xcrun notarytool log "$id" "${credentials[@]}" >&2 || true
        exit 1
    fi
    xcrun stapler staple "$target"
    xcrun stapler validate "$target"
    echo "notarised and stapled $target"
}

[ $# -eq 2 ] || usage
kind=$1
target=$2
[ -e "$target" ] || { echo "sign_and_notarize.sh: $target does not exist" >&2; exit 2; }
require MACOS_SIGNING_IDENTITY
case "$kind" in
    app)
        sign "$target"
        ;;
    dmg)
        if [ -z "${APPLE_NOTARY_PROFILE:-}" ]; then
            require APPLE_ID APPLE_TEAM_ID APPLE_APP_PASSWORD  # before signing: fail early
        fi
        sign "$target"
        notarise "$target"
        spctl --assess --type open --context context:primary-signature --verbose=1 "$target"
        ;;
    *)
        usage
        ;;
esac
