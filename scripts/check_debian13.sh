#!/usr/bin/env bash
# Builds and tests this checkout on Debian 13 (trixie, LibTorch 2.6, GCC 14) from a Debian 12 or 13 host.
#   sudo bash scripts/check_debian13.sh                 # create the chroot once, then setup.sh + ctest
#   SRLAB_DEBIAN13_ROOT=/srv/d13 bash scripts/check_debian13.sh
#   bash scripts/check_debian13.sh -- bash             # any command instead of the test run (in the checkout)
# The Debian 13 system is made once with mmdebstrap (default /var/tmp/srlab-debian13, ~3 GB with SRLab's
# packages) from the Debian mirror this machine's apt sources name, and reused afterwards. The checkout and
# ../shared are bind-mounted at the same paths, so the chroot runs the README's test command,
#   bash scripts/setup.sh --tests && ctest --test-dir build-debian13 --output-on-failure -j2
# in its own build folder (BUILD_DIR, default build-debian13; ./build stays the host's). ccache's folder lives
# in the chroot (/var/cache/srlab-ccache), so a second run only recompiles what changed. Everything runs at
# nice 15 (SRLAB_NICE) and everything mounted is unmounted on exit.
# Environment: SRLAB_DEBIAN13_ROOT, BUILD_DIR, SRLAB_NICE, SRLAB_DEBIAN13_MIRROR (default: from apt sources),
# SRLAB_DEBIAN_SUITE (default trixie) and SRLAB_CHROOT_INCLUDE (extra packages at creation; scripts/gpu/check_kit.sh),
# CTEST_ARGS (extra ctest arguments, e.g. "-R OnnxExport"), MAKEFLAGS (e.g. -k), SRLAB_CMAKE_ARGS.
set -euo pipefail
# The body is one { ... } block, parsed whole before it runs: editing this file during a run is safe.
{

ROOT="${SRLAB_DEBIAN13_ROOT:-/var/tmp/srlab-debian13}"
SUITE="${SRLAB_DEBIAN_SUITE:-trixie}"  # scripts/gpu/check_kit.sh: bookworm
BUILD_DIR="${BUILD_DIR:-build-debian13}"
NICE="${SRLAB_NICE:-15}"
REPO="$(cd "$(dirname "$0")/.." && pwd -P)"
SHARED="$(cd "$REPO/.." && pwd -P)/shared"

log() { echo "check_debian13: $*"; }
die() { echo "check_debian13: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap, chroot and mounts need it)"
case "$BUILD_DIR" in /*|*..*) die "BUILD_DIR must be a folder name relative to the checkout, got '$BUILD_DIR'";; esac
[ "$BUILD_DIR" != build ] || die "BUILD_DIR=build would clash with the host's build folder"

# The host's Debian mirror: the first non-security URI of its apt sources (deb822 .sources files first,
# then one-line sources.list entries).
host_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++) print $i }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1=="deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) { print $i; break } }' "$f"
  done
}
pick_mirror() {
  host_mirror | grep -E '^(https?|file)://' | grep -v -e security -e '-updates' | head -n1
}
security_mirror() {
  host_mirror | grep -E '^(https?|file)://' | grep -e 'debian-security' | head -n1
}

create_root() {
  local mirror sec tmp
  mirror="${SRLAB_DEBIAN13_MIRROR:-$(pick_mirror)}"
  mirror="${mirror%/}"
  [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d/*}; set SRLAB_DEBIAN13_MIRROR"
  sec="$(security_mirror)"; sec="${sec%/}"
  if ! command -v mmdebstrap >/dev/null; then
    log "waiting for mmdebstrap to be installed (apt-get install mmdebstrap) ..."
    for _ in $(seq 1 120); do command -v mmdebstrap >/dev/null && break; sleep 5; done
    command -v mmdebstrap >/dev/null || die "mmdebstrap not found: apt-get install mmdebstrap"
  fi
  local comps="main contrib non-free"
  local sources=("deb $mirror $SUITE $comps" "deb $mirror $SUITE-updates $comps")
  [ -z "$sec" ] || sources+=("deb $sec $SUITE-security $comps")
  tmp="$ROOT.partial"
  rm -rf --one-file-system "$tmp"
  log "creating Debian 13 ($SUITE) in $ROOT from $mirror (once; a few minutes)"
  local t0=$SECONDS
  # --variant=apt: essential packages + apt; setup.sh installs the rest. ca-certificates for npm's https.
  printf '%s\n' "${sources[@]}" |
    nice -n "$NICE" mmdebstrap --variant=apt --include="ca-certificates,ccache${SRLAB_CHROOT_INCLUDE:+,$SRLAB_CHROOT_INCLUDE}" \
      --aptopt='Acquire::Retries "3"' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      "$SUITE" "$tmp" -
  mv "$tmp" "$ROOT"
  echo "$SUITE $mirror $(date -u +%FT%TZ)" > "$ROOT/etc/srlab-debian13"
  log "created $ROOT in $((SECONDS - t0)) s ($(du -shx "$ROOT" | cut -f1))"
}

# The chroot's own disk use (not the bind-mounted checkout, which is on the same file system).
root_size() {
  local ex=() m
  for m in "${MOUNTS[@]}"; do ex+=("--exclude=$m"); done
  du -shx "${ex[@]}" "$ROOT" 2>/dev/null | cut -f1
}
MOUNTS=()
cleanup() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount -R "${MOUNTS[$i]}" 2>/dev/null || umount -R -l "${MOUNTS[$i]}" 2>/dev/null ||
      echo "check_debian13: warning: could not unmount ${MOUNTS[$i]}" >&2
  done
  MOUNTS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mnt() {  # mnt <target> <mount args...>: mounts once and records it for cleanup
  local target="$1"; shift
  mkdir -p "$target"
  if mountpoint -q "$target"; then
    die "$target is already mounted (another check_debian13.sh running? else: umount -R $ROOT/{proc,sys,dev,work})"
  fi
  mount "$@" "$target"
  MOUNTS+=("$target")
}

if [ ! -f "$ROOT/etc/srlab-debian13" ]; then
  create_root
else
  log "reusing $ROOT ($(cat "$ROOT/etc/srlab-debian13"))"
fi

# Keep the chroot small: no downloaded .deb files are kept once installed (setup.sh installs ~1 GB of them).
[ -f "$ROOT/etc/apt/apt.conf.d/90srlab-no-archives" ] ||
  echo 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };' \
    > "$ROOT/etc/apt/apt.conf.d/90srlab-no-archives"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
# The host's CA bundle (it may hold a local CA that npm's registry access needs) for npm/Node.js inside.
HOST_CA=""
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/srlab-host-ca-certificates.crt"
  HOST_CA=/etc/ssl/certs/srlab-host-ca-certificates.crt
fi
mnt "$ROOT/proc" -t proc proc
mnt "$ROOT/sys" --rbind /sys --make-rslave
mnt "$ROOT/dev" --rbind /dev --make-rslave
mnt "$ROOT$REPO" --bind "$REPO"
if [ -d "$SHARED" ]; then
  mnt "$ROOT$SHARED" --bind "$SHARED" -o ro 2>/dev/null || mnt "$ROOT$SHARED" --bind "$SHARED"
else
  log "warning: $SHARED not found; tests needing ../shared/data will fail"
fi
mkdir -p "$ROOT/var/cache/srlab-ccache" "$ROOT/tmp"
chmod 1777 "$ROOT/tmp"
# The previous run's temporary files (tests leave some behind): nothing else uses the chroot's /tmp.
find "$ROOT/tmp" -mindepth 1 -xdev -delete 2>/dev/null || true

run_in_root() {
  nice -n "$NICE" chroot "$ROOT" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    CCACHE_DIR=/var/cache/srlab-ccache CCACHE_MAXSIZE=5G BUILD_DIR="$BUILD_DIR" \
    SRLAB_CMAKE_ARGS="${SRLAB_CMAKE_ARGS:-}" CTEST_ARGS="${CTEST_ARGS:-}" MAKEFLAGS="${MAKEFLAGS:-}" \
    ${HOST_CA:+npm_config_cafile=$HOST_CA NODE_EXTRA_CA_CERTS=$HOST_CA} \
    bash -c "cd '$REPO' && $1"
}

if [ "${1:-}" = "--" ]; then
  shift
  run_in_root "$(printf '%q ' "$@")"
  exit
fi

# The README's test command: `bash scripts/setup.sh --tests && ctest ...` (setup.sh without --tests builds only srlab;
# an older setup.sh without the option builds everything).
SETUP="bash scripts/setup.sh"
grep -q -- '--tests' "$REPO/scripts/setup.sh" && SETUP="bash scripts/setup.sh --tests"
t0=$SECONDS
log "running: $SETUP && ctest --test-dir $BUILD_DIR --output-on-failure -j2 (in $ROOT, nice $NICE)"
log "$(run_in_root 'echo "$(. /etc/os-release; echo $PRETTY_NAME), $(gcc -dumpfullversion 2>/dev/null || echo no gcc yet)"')"
set +e
# shellcheck disable=SC2016
run_in_root "$SETUP"' && { ccache -s 2>/dev/null | grep -Ei "hits|misses"; ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 $CTEST_ARGS; }' 2>&1 |
  tee "$ROOT/var/tmp/srlab-check.log"
rc=${PIPESTATUS[0]}
set -e
log "finished in $((SECONDS - t0)) s, exit status $rc; log: $ROOT/var/tmp/srlab-check.log; chroot: $(root_size)"
summary="$(grep -E 'tests passed, [0-9]+ tests failed out of' "$ROOT/var/tmp/srlab-check.log" | tail -n1 || true)"
echo "${summary:-check_debian13: no ctest summary (the build or setup failed; see above)}"
exit "$rc"
}
