#!/bin/sh
# Installs the Debian packages Peluit needs when they are missing, so that `make run` and
# `make test` work on a fresh Debian 12 machine. Usage: install-deps.sh python|run|all
set -eu

need=""
want() { # want COMMAND-OR-PATH PACKAGE
    case "$1" in
        /*) [ -e "$1" ] || need="$need $2" ;;
        *) command -v "$1" >/dev/null 2>&1 || need="$need $2" ;;
    esac
}

safe_copy_deps() {
    # Safe copies of evidence (workbench/safecopy): the sandbox (bubblewrap, LGPL-2.0+), the
    # renderers as separate programs (poppler-utils: GPL-2/3; LibreOffice: MPL-2.0; Tesseract:
    # Apache-2.0), DejaVu fonts for text files. Installed without recommends.
    want bwrap bubblewrap
    want setpriv util-linux  # a workbench run as root leaves root for the sandbox
    want pdftoppm poppler-utils
    want soffice libreoffice-core
    want /usr/lib/libreoffice/program/swriter libreoffice-writer
    want /usr/lib/libreoffice/program/scalc libreoffice-calc
    want /usr/lib/libreoffice/program/simpress libreoffice-impress
    want tesseract tesseract-ocr
    want /usr/share/tesseract-ocr/5/tessdata/ind.traineddata tesseract-ocr-ind
    want /usr/share/tesseract-ocr/5/tessdata/eng.traineddata tesseract-ocr-eng
    want /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf fonts-dejavu-core
    # Originals that must travel as they are lose their metadata with mat2 (LGPL-3.0+), run in
    # the same sandbox (workbench/safecopy/strip.py).
    want mat2 mat2
}

case "${1:-all}" in
    python)
        want python3 python3
        python3 -c 'import venv, ensurepip' 2>/dev/null || need="$need python3-venv"
        ;;
    run)
        want gpg gnupg
        safe_copy_deps
        ;;
    all)
        want gpg gnupg
        want tor tor
        want tor-gencert tor
        want chromium chromium
        want chromedriver chromium-driver
        want systemd-analyze systemd
        want nft nftables
        want strace strace
        # The deployment test (tests/deploy/test_nspawn.py): a Debian 12 image booted with systemd.
        want debootstrap debootstrap
        want systemd-nspawn systemd-container
        safe_copy_deps
        want npm npm  # fetches axe-core for the accessibility audit (below)
        ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql"
        ;;
    *) echo "usage: $0 python|run|all" >&2; exit 2 ;;
esac

axe_core() {
    # axe-core, injected by the browser tests only (tests/browser/test_accessibility.py): the
    # reporter pages themselves never run JavaScript. From the npm registry, pinned.
    version=4.14.1
    dir="$(dirname "$0")/.cache/axe-core-$version"
    [ -f "$dir/axe.min.js" ] && return 0
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "axe-core@$version" >/dev/null && tar -xzf "axe-core-$version.tgz")
    mkdir -p "$dir"
    cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$dir/"
    rm -rf "$tmp"
}

if [ -z "$need" ]; then
    [ "${1:-all}" = all ] && axe_core
    exit 0
fi
echo "installing Debian packages:$need"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
[ "${1:-all}" = all ] && axe_core
exit 0
