#!/usr/bin/env bash
# Makes the Dockerfile's two base images from Debian packages, for hosts that reach a Debian
# mirror but no container registry (the development machine and CI):
#   localhost/mcp-sandbox-base:runtime   Debian minbase with ca-certificates (stands in for
#                                        debian:bookworm-slim)
#   localhost/mcp-sandbox-base:builder   the same plus gcc, libc6-dev and Rust $RUST by rustup
#                                        in /usr/local, as rust:1.95-slim-bookworm lays it out
# Then: podman build --build-arg RUNTIME=localhost/mcp-sandbox-base:runtime \
#                    --build-arg BUILDER=localhost/mcp-sandbox-base:builder -t mcp-sandbox .
#   deploy/bases.sh [runtime|builder|all]   (default all; an image already present is kept)
# Needs root, mmdebstrap and podman (Debian: apt-get install mmdebstrap podman).
# The builder also trusts this host's own CAs (/usr/local/share/ca-certificates), as cargo in it
# must reach crates.io the way this host does (through a TLS-inspecting proxy, here).
# Environment: SUITE (bookworm), MIRROR (deb.debian.org), RUST (1.95.0), ENGINE (podman).
set -euo pipefail
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
RUST=${RUST:-1.95.0}
ENGINE=${ENGINE:-podman}
what=${1:-all}

have() { "$ENGINE" image exists "$1" 2>/dev/null || "$ENGINE" image inspect "$1" >/dev/null 2>&1; }

# mmdebstrap ROOTFS-TARBALL EXTRA-ARGS...: a minbase without documentation, man pages or
# apt lists (what the -slim images leave out).
debootstrap_tar() {
    local out=$1; shift
    mmdebstrap --quiet --variant=minbase --format=tar \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
        "$@" "$SUITE" "$out" "$MIRROR"
}

make_runtime() {
    local name=localhost/mcp-sandbox-base:runtime tmp
    if have "$name"; then echo "$name: present"; return; fi
    tmp=$(mktemp -d)
    debootstrap_tar "$tmp/rootfs.tar" --include=ca-certificates
    "$ENGINE" import --quiet --change 'CMD ["/bin/bash"]' "$tmp/rootfs.tar" "$name" >/dev/null
    rm -rf "$tmp"
    echo "$name: made from Debian $SUITE"
}

make_builder() {
    local name=localhost/mcp-sandbox-base:builder tmp
    if have "$name"; then echo "$name: present"; return; fi
    tmp=$(mktemp -d)
    # rustup's installer (from static.rust-lang.org, as sh.rustup.rs would fetch it), run on
    # this host into the new root, at the rust images' places (RUSTUP_HOME=/usr/local/rustup,
    # CARGO_HOME=/usr/local/cargo; rustup's layout holds no absolute paths).
    curl --proto =https --tlsv1.2 -sSfo "$tmp/rustup-init" \
        "https://static.rust-lang.org/rustup/dist/$(uname -m)-unknown-linux-gnu/rustup-init"
    chmod +x "$tmp/rustup-init"
    debootstrap_tar "$tmp/rootfs.tar" --include=ca-certificates,curl,gcc,libc6-dev,make \
        --customize-hook="env RUSTUP_HOME=\"\$1/usr/local/rustup\" CARGO_HOME=\"\$1/usr/local/cargo\" $tmp/rustup-init -y --quiet --no-modify-path --profile minimal --default-toolchain $RUST" \
        --customize-hook='test -x "$1/usr/local/cargo/bin/cargo"' \
        --customize-hook='for c in /usr/local/share/ca-certificates/*.crt; do [ -f "$c" ] && cp "$c" "$1/usr/local/share/ca-certificates/"; done; chroot "$1" update-ca-certificates >/dev/null'
    "$ENGINE" import --quiet \
        --change 'ENV RUSTUP_HOME=/usr/local/rustup' \
        --change 'ENV CARGO_HOME=/usr/local/cargo' \
        --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' "$tmp/rootfs.tar" "$name" >/dev/null
    rm -rf "$tmp"
    echo "$name: made from Debian $SUITE with Rust $RUST"
}

case $what in
    runtime) make_runtime ;;
    builder) make_builder ;;
    all) make_runtime; make_builder ;;
    *) echo "usage: deploy/bases.sh [runtime|builder|all]" >&2; exit 2 ;;
esac
