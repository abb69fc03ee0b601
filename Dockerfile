# syntax=docker/dockerfile:1
# XLNC Perception: one image for the API (the default command), the worker (`node src/worker.ts`)
# and the release step (`node bin/xlnc.js migrate`). Node runs the TypeScript sources as they are
# (type stripping), so the final image holds the production dependencies only: no compiler, no tsx,
# no test tools. test/e2e/production.test.ts runs this file's install and start commands, read from
# here, and `npm run lint:deploy` checks it; the Node version matches .nvmrc.

FROM node:24.22.3-bookworm-slim AS base
WORKDIR /app

# Production dependencies, without what nothing reads at run time (type declarations, source maps).
FROM base AS deps
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund \
  && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete \
  && mkdir data

# Everything, dev tools included, for whatever has a build step (`npm run build`: the dashboard).
# Its output, when there is one, is web/dist.
FROM base AS build
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build --if-present && mkdir -p web/dist

FROM base AS runtime
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps --chown=node:node /app/data ./data
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY config ./config
COPY --from=build /app/web/dist ./web/dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "src/main.ts"]
