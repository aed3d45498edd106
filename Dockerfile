# webhook-ingest: Node.js 24 running src/*.ts directly (type stripping), no npm and no node_modules
# in the image, no shell, running as the distroless "nonroot" user (uid 65532).
#
# Base images, pinned by tag here and nowhere else. For reproducible production builds, pin the
# digests too (NAME:TAG@sha256:...), or override at build time with --build-arg.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot
# Image labels. VERSION: keep equal to "version" in package.json (test/container-files.test.ts
# checks it). SOURCE_URL and REVISION: set by the release build, e.g.
# --build-arg SOURCE_URL=$(git remote get-url origin) --build-arg REVISION=$(git rev-parse HEAD).
ARG VERSION=0.1.0
ARG SOURCE_URL=""
ARG REVISION=""

# Prepare the runtime file tree where a shell exists; nothing from this stage but /rootfs ships.
FROM ${NODE_IMAGE} AS prepare
COPY package.json /rootfs/app/package.json
COPY src/ /rootfs/app/src/
# Code: owned by root, readable by everyone, writable by no one else, whatever the builder's umask,
# so the service cannot rewrite itself. /data: owned by the runtime user, so a new named volume
# (which the engine initialises from the image's directory, owner included) is writable on first
# start with no manual chown.
RUN chown -R 0:0 /rootfs/app \
 && chmod -R u=rwX,go=rX /rootfs/app \
 && mkdir /rootfs/data \
 && chown 65532:65532 /rootfs/data

FROM ${RUNTIME_IMAGE}
ARG VERSION
ARG SOURCE_URL
ARG REVISION
LABEL org.opencontainers.image.title="webhook-ingest" \
      org.opencontainers.image.description="Signed-webhook ingestion service for WhatsApp-like messages, on the Node.js standard library alone" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=prepare /rootfs/app /app
COPY --from=prepare --chown=65532:65532 /rootfs/data /data
WORKDIR /app
# MALLOC_ARENA_MAX: glibc otherwise gives each thread (the server and the database writer) malloc
# arenas of its own, whose freed memory stays resident; two keep peak RSS about 10 MB lower at the
# same throughput (README, "Throughput and backpressure").
ENV DATABASE_URL=sqlite:////data/app.db \
    HOST=0.0.0.0 \
    PORT=8000 \
    MALLOC_ARENA_MAX=2
# Numeric, so the engine can tell it is not root without reading /etc/passwd.
USER 65532:65532
EXPOSE 8000
# Node is PID 1 and handles SIGTERM itself (graceful stop, exit 0), so no init process is needed.
# The command is a script path: `docker run IMAGE /app/src/healthcheck.ts` runs the healthcheck.
ENTRYPOINT ["/nodejs/bin/node"]
CMD ["/app/src/server.ts"]
