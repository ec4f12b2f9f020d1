# afk's image: a V8 startup snapshot of afk (dist/afk.blob, built from the single CommonJS
# bundle `npm run snapshot:entry` makes) on a Node runtime, no node_modules. Start-up is part of
# every tick, and from the snapshot a run starts with its modules already evaluated
# (docs/benchmarks.md, Cold start).
# Build: docker build -t ghcr.io/afk-dev/afk:0.1.0 .

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: esbuild's binary comes from its platform package without them.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# The ESM bundle is what npm users' bin/afk.js amounts to; a disarmed poll (no afk.yaml here:
# the defaults) checks it. The snapshot's entry is bundled here and snapshotted in the runtime
# stage: a blob only runs on the Node binary that built it.
RUN npm run bundle \
  && chmod 0755 dist/afk.mjs \
  && node dist/afk.mjs --version \
  && node dist/afk.mjs poll \
  && npm run snapshot:entry

FROM node:20-alpine
ENV NODE_ENV=production
# The runtime needs node only: drop the package managers (and their dependencies' CVEs).
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
    /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
# cli.ts reads the version from ../package.json next to the blob, so the layout is kept.
COPY --from=build /src/package.json /app/package.json
COPY --from=build /src/dist/afk-snapshot.cjs /app/dist/afk-snapshot.cjs
# The blob is built by this stage's node (the one that runs it), then checked. `--` ends node's
# options: without it node would take `--version` or `--help` for its own. The CronJobs run
# `afk` (k8s/base), hence the launcher.
RUN node --snapshot-blob /app/dist/afk.blob --build-snapshot /app/dist/afk-snapshot.cjs \
  && rm /app/dist/afk-snapshot.cjs \
  && printf '#!/bin/sh\nexec node --snapshot-blob /app/dist/afk.blob -- "$@"\n' > /usr/local/bin/afk \
  && chmod 0755 /usr/local/bin/afk \
  && afk --version \
  && afk poll
WORKDIR /app
# Numeric, so Kubernetes' runAsNonRoot can verify it (the CronJobs run as 65532 too).
USER 65532:65532
ENTRYPOINT ["node", "--snapshot-blob", "/app/dist/afk.blob", "--"]
