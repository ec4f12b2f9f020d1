# afk's image: one bundled file (dist/afk.mjs, `npm run bundle`) on a Node runtime, no
# node_modules. Build: docker build -t ghcr.io/afk-dev/afk:0.1.0 .

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: esbuild's binary comes from its platform package without them.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run bundle \
  && chmod 0755 dist/afk.mjs \
  && node dist/afk.mjs --version

FROM node:20-alpine
ENV NODE_ENV=production
# The runtime needs node only: drop the package managers (and their dependencies' CVEs).
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
    /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
# cli.ts reads the version from ../package.json next to dist/, so the layout is kept.
COPY --from=build /src/package.json /app/package.json
COPY --from=build /src/dist/afk.mjs /app/dist/afk.mjs
RUN ln -s /app/dist/afk.mjs /usr/local/bin/afk
WORKDIR /app
# Numeric, so Kubernetes' runAsNonRoot can verify it (the CronJobs run as 65532 too).
USER 65532:65532
ENTRYPOINT ["afk"]
