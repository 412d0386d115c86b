# The gateway on Node 20. Build stage: `npm ci` + `npm run build`, as .ci/run installs.
# Runtime stage: production dependencies and dist/ only, run as the image's non-root `node` user.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY assembly ./assembly
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# package.json stays: --version and the start-up line read the version from it.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
ENV PORT=8080 DATA_DIR=/app/data
VOLUME ["/app/data"]
EXPOSE 8080
# No curl in the slim image; Node's own fetch asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself: running queries get SHUTDOWN_GRACE_MS to finish.
# The flag is npm start's: V8's young generation held to 2 MiB a half keeps a long export's peak,
# with the export thread of EXPORT_THREADS=1, under 120 MB (README, Performance).
CMD ["node", "--max-semi-space-size=2", "dist/runtime/node/main.js"]
