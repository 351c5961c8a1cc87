# syntax=docker/dockerfile:1
# kafka-forwarder's container image: the npm package, built and packed from this checkout, then
# installed into a clean Node image with production dependencies only, exactly as a user installs
# it (deploy/container/install-package.sh, which test/package/ runs too).
#
#   docker build -t kafka-forwarder .
#   docker run --rm kafka-forwarder --version

# Both stages use the supported Node major (package.json "engines"); pin a digest in production.

# NODE_IMAGE the base image of both stages.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first, from the lockfile, so that this layer is reused until they change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# prepack runs `npm run build` (dist/); the tarball is what `npm publish` would publish.
RUN npm pack --silent --pack-destination /tmp \
  && mv /tmp/kafka-forwarder-*.tgz /tmp/kafka-forwarder.tgz

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
COPY --from=build /tmp/kafka-forwarder.tgz /tmp/kafka-forwarder.tgz
COPY deploy/container/install-package.sh /tmp/install-package.sh
# Installed as root and owned by root: the service user can run the code but not change it.
RUN sh /tmp/install-package.sh /tmp/kafka-forwarder.tgz /opt/kafka-forwarder \
  && ln -s /opt/kafka-forwarder/node_modules/.bin/kafka-forwarder /usr/local/bin/kafka-forwarder \
  && rm /tmp/kafka-forwarder.tgz /tmp/install-package.sh \
  && npm cache clean --force
COPY deploy/container/kafka-forwarder.yaml /etc/kafka-forwarder/kafka-forwarder.yaml
# The spool must outlive the container: a volume, owned by the service user (uid 1000, "node" in
# the Node images; numeric so that Kubernetes' runAsNonRoot can check it).
RUN mkdir -p /var/lib/kafka-forwarder/spool \
  && chown -R 1000:1000 /var/lib/kafka-forwarder \
  && chmod 0700 /var/lib/kafka-forwarder
VOLUME ["/var/lib/kafka-forwarder"]
USER 1000:1000
WORKDIR /var/lib/kafka-forwarder
# 8080: the Events API (public). 9464: /metrics, /healthz, /readyz (admin; keep it internal).
EXPOSE 8080 9464
# Liveness from the admin listener (admin.port in the configuration). The image has no curl;
# Node's fetch does the request.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains: in-flight requests get server.shutdown_timeout_ms (30 s) and the process exits 0.
# `docker stop` sends SIGKILL after 10 s unless told otherwise: use `docker stop --time 45`
# (compose: stop_grace_period: 45s; Kubernetes: terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
# Exec form, node itself as PID 1: the signal reaches the forwarder, not a shell. The flag is the
# one the package's bin uses (a small young generation suits many short requests).
ENTRYPOINT ["node", "--max-semi-space-size=8", "/opt/kafka-forwarder/node_modules/kafka-forwarder/dist/cli/main.js"]
CMD ["serve", "--config", "/etc/kafka-forwarder/kafka-forwarder.yaml"]
