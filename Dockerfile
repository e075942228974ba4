# The newsletter API's image: dependencies → build (one esbuild bundle) → a distroless `runtime` (the default target).
# Build context: the repository root (.dockerignore lets in only app/ sources, lockfile and configuration/).
#
#   DOCKER_BUILDKIT=1 docker build -t newsletter .
#
# The image carries no version or commit: the same files give the same image whatever the commit, and the
# deployment tells the app its version (APP_APPLICATION__VERSION, set by infra/ to a hash of the image's inputs).
#
# Behind a TLS-intercepting proxy or with a private npm mirror (nothing below ends up in a layer of the image):
#   --build-arg HTTPS_PROXY=... / HTTP_PROXY / NO_PROXY   Docker's predefined proxy args, left out of `docker history`
#   --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt  the proxy's CA bundle (PEM), trusted by npm on top of Node's
#   --secret id=npmrc,src=$HOME/.npmrc                      registry URL and auth token for a private mirror
#   --build-arg NPM_CONFIG_REGISTRY=https://npm.example/    a mirror without credentials (URL only; never a token)
#   --build-arg BUILD_IMAGE=... --build-arg RUNTIME_IMAGE=... mirrors of the two base images (same layout)
#
# No `# syntax=` line on purpose: it makes BuildKit pull a frontend image, and the built-in frontend of Docker 20.10
# already has everything used here (RUN --mount for cache, bind and secret). That frontend has no COPY --link,
# COPY --chmod or heredocs, so none are used.

# Official images. Node 24 on Debian 12 to build; Google's distroless Node 24 on Debian 13 to run (no shell, no
# package manager, user `nonroot` = 65532, node at /nodejs/bin/node). The Debian 12 distroless Node images stopped
# receiving updates in February 2026, hence debian13. Pin them by digest (`name:tag@sha256:...`) once you can resolve
# the digests (`docker buildx imagetools inspect <name:tag>`); Dependabot then moves tag and digest together.
# They are two named stages, not ARG defaults, because Dependabot reads only image names written in FROM lines
# (dependabot/dependabot-core#2057). BUILD_IMAGE and RUNTIME_IMAGE still replace them (a mirror, the stand-ins of
# .ci/run): BuildKit builds only the stages the target needs, so a replaced official image is never pulled.
ARG BUILD_IMAGE=official-build
ARG RUNTIME_IMAGE=official-runtime
FROM node:24.21.0-bookworm-slim AS official-build
FROM gcr.io/distroless/nodejs24-debian13:nonroot AS official-runtime

# ---------------------------------------------------------------------------------------------------------------------
# dependencies: node_modules from the app's own lockfile (app/, not the root package: the root carries Pulumi).
# Only package.json and the lockfile are bind-mounted, so this layer is rebuilt only when they change; npm's download
# cache lives in a BuildKit cache mount, so even then tarballs already fetched are not downloaded again.
FROM ${BUILD_IMAGE} AS dependencies
WORKDIR /src/app
# A private npm mirror that needs no credentials (with credentials: the npmrc secret). Not a secret; this stage is
# not part of the runtime image, so the value is not in its history either.
ARG NPM_CONFIG_REGISTRY
RUN --mount=type=bind,source=app/package.json,target=package.json \
    --mount=type=bind,source=app/package-lock.json,target=package-lock.json \
    --mount=type=cache,id=newsletter-npm,target=/root/.npm \
    --mount=type=secret,id=npmrc,target=/root/.npmrc \
    --mount=type=secret,id=ca,target=/run/secrets/ca \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi \
    && if [ -n "${NPM_CONFIG_REGISTRY}" ]; then export NPM_CONFIG_REGISTRY; else unset NPM_CONFIG_REGISTRY; fi \
    && npm ci --no-audit --no-fund --update-notifier=false

# ---------------------------------------------------------------------------------------------------------------------
# build: bundle the TypeScript sources into dist/app.js, with the entry points dist/server.js and dist/migrate.js
# (app/build.mjs, esbuild). A bundle needs no node_modules at run time, so the runtime stage copies a few files
# instead of a dependency tree.
FROM dependencies AS build
COPY app/build.mjs ./
COPY app/src ./src
RUN node build.mjs

# ---------------------------------------------------------------------------------------------------------------------
# shell: Debian's dash, installed in the runtime image as /bin/sh and nothing else.
# App Platform runs a job's `run_command` in place of the image's entrypoint, and its docs do not say whether the
# string is executed directly or through a shell:
#   - app spec reference, `run_command`: "An optional run command to override the component's default"
#     (https://docs.digitalocean.com/products/app-platform/reference/app-spec/);
#   - the glossary describes run commands as shell lines: they "can be compound (joined by && or separated by
#     newlines)" (https://docs.digitalocean.com/glossary/command/; also
#     https://docs.digitalocean.com/products/app-platform/how-to/build-run-commands/);
#   - App Platform's own container starter resolves argv[0] in PATH, outside Docker ("starting non-root container
#     [...]: error finding executable "" in PATH", https://github.com/steamcmd/api/issues/24).
# Distroless has no /bin/sh ("distroless images by default do not contain a shell",
# https://github.com/GoogleContainerTools/distroless#readme; GoogleContainerTools/distroless#891), so a `/bin/sh -c`
# wrapper would fail before the migration even starts. MIGRATE_COMMAND (infra/image.ts) uses absolute paths and no
# shell syntax, so it runs as argv; with /bin/sh present it also runs through `sh -c`.
# Why dash: it is only a shell (123 KiB), already in the build image (Essential in Debian), and needs nothing but the
# glibc that the Node runtime image ships anyway. A static busybox (the other candidate) is 2 MB and brings wget, nc
# and a hundred other applets into an image that is meant to have none. The server itself never starts a shell.
FROM ${BUILD_IMAGE} AS shell

# ---------------------------------------------------------------------------------------------------------------------
# runtime: Node, the bundle, the configuration files and the SQL migrations. No npm, no node_modules, no sources.
# Layers are ordered from the least to the most often changed.
FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
COPY --from=shell /bin/dash /bin/sh
COPY configuration/*.yaml ./configuration/
COPY app/migrations ./migrations
# dist/ holds app.js, its entry points server.js and migrate.js, and the bundled packages' license notices
# (app.js.LEGAL.txt), nothing else.
COPY --from=build /src/app/dist/ ./dist/
# Files stay owned by root and read-only to the app's user: the process cannot rewrite its own code.
USER 65532:65532
ENV NODE_ENV=production \
    APP_ENVIRONMENT=production
EXPOSE 8000
# No ENTRYPOINT, and CMD is the server's whole argv (exec form, absolute paths, node as PID 1, so `docker stop` and
# App Platform's SIGTERM reach the server, which drains and exits 0). App Platform doesn't document whether a
# `run_command` replaces the ENTRYPOINT, replaces CMD (Kubernetes `args`) or is wrapped in `sh -c`
# (digitalocean/openapi, specification/resources/apps/models/app_component_base.yml: "An optional run command to
# override the component's default"), and its starter joins ENTRYPOINT and CMD and looks argv[0] up in PATH
# (steamcmd/api#24: an inherited empty ENTRYPOINT made it exec ""). With nothing to prepend, a run command that is a
# full argv (infra/image.ts, MIGRATE_ARGV) runs the same under all three. `[]` clears the base image's
# ENTRYPOINT ["/nodejs/bin/node"]; `[""]` would leave an empty argv[0], the very failure of steamcmd/api#24.
ENTRYPOINT []
CMD ["/nodejs/bin/node", "/app/dist/server.js"]
LABEL org.opencontainers.image.title="newsletter" \
      org.opencontainers.image.description="The newsletter API (Fastify + Postgres), bundled for Node 24"
