# syntax=docker/dockerfile:1
# One image, two roles: the container argument picks `web` (webhook server), `worker` (SQS
# consumer), `all`, `metadata <dir>` or `salesforce-emulator`.

ARG NODE_IMAGE=node:24-bookworm-slim

# Build: all dependencies, compile TypeScript to dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only, without install scripts.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

# Runtime: non-root, nothing written outside /tmp (mount an emptyDir there with a read-only root).
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    PORT=8000 \
    WORKER_PORT=8001
RUN groupadd --system --gid 10001 app \
  && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
USER 10001:10001
EXPOSE 8000 8001
ENTRYPOINT ["node", "dist/main.js"]
CMD ["web"]
