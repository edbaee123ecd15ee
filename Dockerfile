# mcp-sandbox: the tool gateway image. `docker build .` / `podman build .` compiles the two
# binaries and makes a small final image; README "Deployment" has the `run` options it needs.
#
# Build arguments:
#   BUILDER   an image with a Rust toolchain (>= the workspace's rust-version), gcc and libc headers
#   RUNTIME   a Debian-like base of the same or a newer glibc than BUILDER (apt-get is used only
#             if it lacks CA certificates)
# Targets: the default (last) stage compiles the binaries; `--target prebuilt` takes
# `mcp-sandbox` and `mcp-sandbox-init` from the top of the build context instead, built on a
# host with a compatible glibc (the tests use it to skip a second release build; deploy/README.md).
# Without a registry, deploy/bases.sh makes both bases from Debian packages:
#   podman build --build-arg BUILDER=localhost/mcp-sandbox-base:builder \
#                --build-arg RUNTIME=localhost/mcp-sandbox-base:runtime -t mcp-sandbox .
ARG BUILDER=docker.io/library/rust:1.95-slim-bookworm
ARG RUNTIME=docker.io/library/debian:bookworm-slim

FROM ${BUILDER} AS build
WORKDIR /src
COPY . .
# No debug information and no symbols in the image's binaries (the workspace's release profile
# keeps line tables for backtraces on a developer's machine: 404 MB of binaries here, 39 MB without).
ENV CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols
RUN cargo build --release --locked --bin mcp-sandbox --bin mcp-sandbox-init \
 && mkdir /out \
 && cp target/release/mcp-sandbox target/release/mcp-sandbox-init /out/

FROM ${RUNTIME} AS runtime
# CA certificates for tools that speak TLS from the system view (the server itself carries the
# Mozilla roots). The user the gateway runs as: a fixed uid without a login, so that Kubernetes'
# runAsNonRoot can check it, with a home for its state (caches, pins) when nothing is mounted.
RUN set -eu; \
    if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then \
        apt-get update; \
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    echo 'mcp:x:10001:10001:mcp-sandbox:/home/mcp:/usr/sbin/nologin' >> /etc/passwd; \
    echo 'mcp:x:10001:' >> /etc/group; \
    mkdir -p /home/mcp; \
    chown 10001:10001 /home/mcp; \
    chmod 0700 /home/mcp
USER 10001:10001
ENV HOME=/home/mcp
WORKDIR /home/mcp
EXPOSE 8931
ENTRYPOINT ["mcp-sandbox"]
CMD ["--help"]

# `--target prebuilt`: the binaries from the top of the build context (nothing is compiled).
FROM runtime AS prebuilt
COPY mcp-sandbox mcp-sandbox-init /usr/local/bin/

# The default (last) stage: the binaries compiled above. mcp-sandbox-init is found next to
# mcp-sandbox: the native sandbox's first stages exec it.
FROM runtime AS image
COPY --from=build /out/mcp-sandbox /out/mcp-sandbox-init /usr/local/bin/
