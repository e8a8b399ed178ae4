#!/usr/bin/env bash
# Prepare the side-by-side audit comparison (issue 5) outside the repository.
#
#   sudo bench/audit_compare/prepare.sh     # work dir: ${ASSAY_BENCH_DIR:-/var/tmp/assay-bench}
#
# 1. Installs Debian 12's lynis, OpenSCAP scanner and utilities (oscap, oscap-chroot) and
#    debootstrap from the system's configured bookworm mirror.
# 2. Builds a Debian 12 tree with debootstrap (default variant: required + important priority)
#    plus what a Debian 12 server install adds and a hardening benchmark has something to say
#    about: a kernel (linux-image-amd64: without one the SCAP content treats the tree as a
#    container and skips most rule groups, SSH included), openssh-server, sudo, apparmor,
#    systemd-timesyncd.  No boot loader (grub would want a disk).  The tree is left exactly as
#    debootstrap made it: no hardening, no deliberate weaknesses.
# 3. Fetches Debian 13's ssg-debian package (SCAP Security Guide content; it is the one that
#    carries ssg-debian12-ds.xml) with a private apt state under the work dir -- the system's
#    apt lists, cache and dpkg database are not touched -- and unpacks it with dpkg-deb -x.
#    Nothing is installed from trixie.
#
# Everything is idempotent: a step whose output exists is skipped (delete the work dir, or
# one of its parts, to redo it).  Nothing fetched here belongs in the repository.
set -euo pipefail

WORK="${ASSAY_BENCH_DIR:-/var/tmp/assay-bench}"
TREE="$WORK/debian12"
SSG="$WORK/ssg"
APTDIR="$WORK/apt-trixie"
INCLUDE="linux-image-amd64,openssh-server,sudo,apparmor,systemd-timesyncd"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

log() { printf '[prepare] %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
    log "run as root (apt-get install, debootstrap)"
    exit 1
fi

# The Debian mirror this machine already uses for bookworm (deb822 .sources or one-line
# sources.list); ASSAY_BENCH_MIRROR overrides it.  Nothing is fetched from anywhere else.
find_mirror() {
    local f uri suites
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        uri="" suites=""
        while IFS= read -r line; do
            case $line in
            URIs:*) uri=${line#URIs:} ;;
            Suites:*) suites=${line#Suites:} ;;
            "")
                if [[ " $suites " == *" bookworm "* && -n $uri ]]; then
                    echo "$uri" | awk '{print $1}'
                    return 0
                fi
                uri="" suites=""
                ;;
            esac
        done < <(cat "$f"; echo)
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
             if ($(i + 1) == "bookworm") { print $i; exit } }' "$f"
    done | head -n 1
}

MIRROR="${ASSAY_BENCH_MIRROR:-$(find_mirror)}"
MIRROR="${MIRROR%/}"
if [[ -z $MIRROR ]]; then
    log "no bookworm mirror found in /etc/apt/sources.list(.d); set ASSAY_BENCH_MIRROR"
    exit 1
fi
log "work dir: $WORK"
log "mirror:   $MIRROR"
mkdir -p "$WORK"

# 1. Tools from Debian 12.  (libopenscap8 does not exist in bookworm: the library is
#    libopenscap25, pulled in by openscap-scanner; oscap-chroot is in openscap-utils.)
need=()
for cmd in lynis:lynis oscap:openscap-scanner oscap-chroot:openscap-utils \
    debootstrap:debootstrap; do
    command -v "${cmd%%:*}" >/dev/null || need+=("${cmd#*:}")
done
if ((${#need[@]})); then
    log "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi

# 2. The Debian 12 tree.
# The stamp records the package list: changing INCLUDE rebuilds the tree.  It lives next to
# the tree, not in it, so that it is not one more file for the audits to find.
STAMP="$WORK/debian12.complete"
if [[ -f $STAMP && $(head -n 1 "$STAMP") == "$INCLUDE" && -d $TREE ]]; then
    log "tree exists: $TREE (built $(sed -n 2p "$STAMP"))"
else
    rm -rf "$TREE" "$STAMP"
    log "debootstrap bookworm -> $TREE (include: $INCLUDE)"
    debootstrap --include="$INCLUDE" --keyring="$KEYRING" bookworm "$TREE" "$MIRROR"
    printf '%s\n%s\n' "$INCLUDE" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$STAMP"
fi

# 3. ssg-debian from trixie, with a private apt state.
if compgen -G "$SSG/usr/share/xml/scap/ssg/content/ssg-debian12-ds.xml" >/dev/null \
    || compgen -G "$SSG/usr/share/scap-security-guide/ssg-debian12-ds.xml" >/dev/null; then
    log "SSG content exists: $SSG"
else
    mkdir -p "$APTDIR/state/lists/partial" "$APTDIR/cache/archives/partial" "$APTDIR/debs"
    printf 'deb [signed-by=%s] %s trixie main\n' "$KEYRING" "$MIRROR" >"$APTDIR/sources.list"
    apt_private=(
        -o "Dir::State=$APTDIR/state"
        -o "Dir::State::status=/dev/null"
        -o "Dir::Cache=$APTDIR/cache"
        -o "Dir::Etc::SourceList=$APTDIR/sources.list"
        -o "Dir::Etc::SourceParts=/dev/null"
        -o "Dir::Etc::PreferencesParts=/dev/null"
        -o "Dir::Etc::Preferences=/dev/null"
    )
    log "apt-get update (private state: $APTDIR)"
    apt-get "${apt_private[@]}" update
    # ssg-debian holds the data streams; they are self-contained (ssg-base carries only
    # documentation and the shared README), so nothing else is needed.
    # apt drops privileges to _apt for downloads: let it write the target directory.
    if id _apt >/dev/null 2>&1; then chown _apt "$APTDIR/debs"; fi
    (cd "$APTDIR/debs" && apt-get "${apt_private[@]}" download ssg-debian)
    rm -rf "$SSG"
    mkdir -p "$SSG"
    for deb in "$APTDIR"/debs/ssg-debian_*.deb; do
        log "unpacking $(basename "$deb")"
        dpkg-deb -x "$deb" "$SSG"
    done
fi

DS=$(find "$SSG" -name 'ssg-debian12-ds.xml' -print -quit)
if [[ -z $DS ]]; then
    log "ssg-debian12-ds.xml not found under $SSG"
    exit 1
fi

log "prepared:"
printf '  lynis         %s\n' "$(lynis --version 2>/dev/null | head -n 1)"
printf '  oscap         %s\n' "$(oscap --version | head -n 1)"
printf '  oscap-chroot  %s\n' "$(command -v oscap-chroot)"
printf '  tree          %s (Debian %s, %s packages)\n' "$TREE" "$(cat "$TREE/etc/debian_version")" \
    "$(grep -c '^Package: ' "$TREE/var/lib/dpkg/status")"
printf '  ssg package   %s\n' "$(basename "$(ls "$APTDIR"/debs/ssg-debian_*.deb)")"
printf '  datastream    %s\n' "$DS"
printf '  ANSSI profiles:\n'
oscap info --profiles "$DS" 2>/dev/null | grep -i anssi | sed 's/^/    /'
