# syntax=docker/dockerfile:1
# The gateway's image: build with dev dependencies, run with production ones only, as the
# unprivileged `node` user. scripts/dockerfile-check.ts replays this file without a container
# engine (CI has none), so keep to what it understands: FROM, WORKDIR, ENV, COPY, RUN, USER,
# EXPOSE, HEALTHCHECK and CMD, with RUN commands that use relative paths only.

# One tag for both stages. A tag, not a digest: bump it deliberately (docs/container.md).
FROM node:24-bookworm-slim AS base
WORKDIR /app

FROM base AS build
# The lockfile alone first, so a change to the sources reuses the installed dependencies.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM base AS run
# NODE_ENV only here: in the build stage it would make `npm ci` skip the compiler.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    METRICS_PORT=9090
# package.json says "type": "module", which the compiled ESM needs. Nothing else is read at run
# time: Swagger UI's assets come from node_modules, the OpenAPI document from the route schemas.
# Files stay root-owned: the gateway can read its code, not rewrite it.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
USER node
# 3000: the API. 9090: /metrics and /admin/* for Prometheus and operators; do not publish it.
EXPOSE 3000 9090
# Node itself, since the slim image has no curl; 127.0.0.1 is reached whether HOST is 0.0.0.0 or ::.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node, not npm, as PID 1: SIGTERM reaches the gateway, which drains and exits (close-with-grace).
CMD ["node", "dist/src/server.js"]
