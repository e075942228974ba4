# The naive anchor for `npm run bench:image`: how the same app is often containerised in one stage. Not deployed.
# Full Node image (or the stand-in build image passed as BUILD_IMAGE), every dependency including dev ones, the
# TypeScript sources run through tsx at start. Built from the repository root with the same .dockerignore.
ARG BUILD_IMAGE=node:24
FROM ${BUILD_IMAGE}
WORKDIR /app
COPY app/ ./
COPY configuration/ ./configuration/
RUN npm install --no-audit --no-fund --update-notifier=false && npm install --no-save --no-audit --no-fund tsx@4.23.15
ENV APP_ENVIRONMENT=production
EXPOSE 8000
CMD ["npx", "tsx", "src/server.ts"]
