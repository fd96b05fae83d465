# syntax=docker/dockerfile:1
# anf-cmk-operator image: build on Debian 12 with exactly what scripts/setup.sh installs, run on Debian 12
# with only the shared libraries in scripts/runtime-packages.txt. CI runs the same steps without Docker:
# scripts/build-image.sh (see docs/operations.md).
#
#   docker build -t anf-cmk-operator:dev --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run --rm --read-only --tmpfs /tmp anf-cmk-operator:dev \
#     run --emulator --manifests /usr/share/anf-cmk-operator/examples/quickstart --metrics-addr :8080
ARG DEBIAN_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
# Package layer first, so source changes do not reinstall the toolchain.
COPY scripts/setup.sh scripts/build-image.sh scripts/runtime-packages.txt scripts/
RUN scripts/build-image.sh packages && rm -rf /var/lib/apt/lists/*
COPY . .
RUN JOBS="$(nproc)" scripts/build-image.sh build /image-root

FROM ${DEBIAN_IMAGE} AS runtime
ARG DEBIAN_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="anf-cmk-operator" \
      org.opencontainers.image.description="Declarative Azure NetApp Files customer-managed-key encryption: manifests in git, reconciled against Azure" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${DEBIAN_IMAGE}"
COPY scripts/build-image.sh scripts/runtime-packages.txt /tmp/image/
RUN /tmp/image/build-image.sh runtime-packages
COPY --from=build /image-root/ /
# Fails the build when the binary needs a library the runtime list does not provide.
RUN /tmp/image/build-image.sh check /usr/local/bin/anf-cmk-operator && rm -rf /tmp/image
# Non-root, numeric so Kubernetes can verify runAsNonRoot. The root file system may be read-only:
# the operator writes only under /tmp (mount an emptyDir or tmpfs there).
USER 65532:65532
ENV TMPDIR=/tmp
EXPOSE 8080 8081
ENTRYPOINT ["anf-cmk-operator"]
CMD ["run", "--config", "/etc/anf-cmk-operator/operator.yaml", "--manifests", "/manifests"]
