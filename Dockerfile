# ferry's container image: one static binary on distroless, run as a
# non-root user with no shell. `docker build -t ferry .` from the repo root;
# `--build-arg VERSION=$(git describe --tags --always --dirty)` stamps the
# version, since .git is not sent to the build (see .dockerignore).
#
# The build stage runs `make static`, the same target `make` and CI run, so
# the command that builds the image's binary is exercised on every CI run
# even where no image can be built.

# Keep the tag in step with go.mod's go line (the manifest test checks it).
FROM golang:1.26 AS build
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN make static VERSION=${VERSION}
# The master's data dir, created here because the final stage has no
# shell to mkdir with; owned by the nonroot user so that a fresh named
# volume mounted on it inherits an owner the process can write as.
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0700 /out/data

# distroless/static: CA certificates, tzdata, /etc/passwd with the nonroot
# user (65532), nothing else: no shell, no package manager, no libc.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/ferry-static /ferry
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# FERRY_DATA_DIR makes /data the default --data-dir of every command: the
# master's state lands on the volume even when --data-dir is left out.
ENV FERRY_DATA_DIR=/data
VOLUME ["/data"]
# 7443: the master's gRPC (workers, submit, admin commands), TLS.
# 9090: --http-listen: /metrics, /healthz, /readyz (plain HTTP, no secrets).
EXPOSE 7443 9090
ENTRYPOINT ["/ferry"]
CMD ["help"]
