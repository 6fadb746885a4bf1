#!/usr/bin/env bash
# Builds "Teams Genesys Presence.app" and an installer package for MDM, on macOS:
#
#   python3.11 -m venv .venv-build && . .venv-build/bin/activate && pip install . "pyinstaller>=6.10,<7"
#   bash installer/macos/build.sh            # → dist/TeamsGenesysPresence-<version>.pkg
#
# Optional signing and notarization (all three or none), from the environment:
#   MACOS_APP_IDENTITY        "Developer ID Application: …"  (codesign, hardened runtime)
#   MACOS_INSTALLER_IDENTITY  "Developer ID Installer: …"    (productsign)
#   NOTARY_PROFILE            a `xcrun notarytool store-credentials` profile name
# Unsigned builds run only after the user allows them in System Settings → Privacy & Security, so
# anything sent to a fleet must be signed and notarized.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=installer/macos
version=$(python3 -c 'import re;print(re.search(r"__version__ = \"([^\"]+)\"", open("tray_agent/__init__.py").read())[1])')
app="dist/Teams Genesys Presence.app"
label=com.trayagent.teams-genesys-presence

mkdir -p "$here/build"
python3 - "$here/build/TeamsGenesysPresence.icns" <<'PY'
import sys
from PIL import Image
Image.open("assets/tray-mark.png").convert("RGBA").resize((1024, 1024), Image.Resampling.LANCZOS).save(sys.argv[1])
PY

pyinstaller --noconfirm --clean --distpath dist --workpath build/macos "$here/TeamsGenesysPresence.spec"
"$app/Contents/MacOS/TeamsGenesysPresence" --version

if [ -n "${MACOS_APP_IDENTITY:-}" ]; then
  codesign --force --deep --options runtime --timestamp --sign "$MACOS_APP_IDENTITY" "$app"
  codesign --verify --strict --verbose=2 "$app"
fi

root=build/macos/pkgroot
rm -rf "$root" && mkdir -p "$root/Applications" "$root/Library/LaunchAgents"
ditto "$app" "$root/Applications/Teams Genesys Presence.app"
install -m 0644 "$here/$label.plist" "$root/Library/LaunchAgents/$label.plist"
pkgbuild --root "$root" --install-location / --scripts "$here/scripts" \
  --identifier "$label.pkg" --version "$version" "build/macos/component.pkg"

pkg="dist/TeamsGenesysPresence-$version.pkg"
if [ -n "${MACOS_INSTALLER_IDENTITY:-}" ]; then
  productsign --sign "$MACOS_INSTALLER_IDENTITY" build/macos/component.pkg "$pkg"
else
  cp build/macos/component.pkg "$pkg"
fi
if [ -n "${NOTARY_PROFILE:-}" ]; then
  xcrun notarytool submit "$pkg" --keychain-profile "$NOTARY_PROFILE" --wait
  xcrun stapler staple "$pkg"
fi
echo "built $pkg"
