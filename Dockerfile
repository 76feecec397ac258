# syntax=docker/dockerfile:1

# The rulescape binary in a small image that runs as a non-root user.
#
#   docker build -t rulescape .                              # the full binary
#   docker build --build-arg TAGS=nodevstack -t rulescape .  # without the embedded dev stack
#
# docker-compose.yml builds its worker service from this file with
# TAGS=nodevstack: workers talk to the compose stack's Temporal and MinIO, so
# the embedded Temporal server and S3 gateway would only add size and build
# time. Needs BuildKit (the default builder of current Docker releases) for
# the cache mounts. Pins: docs/DEPLOY.md, "Upgrading".

FROM --platform=$BUILDPLATFORM golang:1.26.8-trixie AS build
ARG TARGETOS
ARG TARGETARCH
# Go build tags, space- or comma-separated.
ARG TAGS=""
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags=-s -tags "$TAGS" -o /rulescape ./cmd/rulescape

# Static binary, CA certificates and tzdata, no shell; user 65532 (nonroot).
FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /rulescape /rulescape
USER 65532:65532
ENTRYPOINT ["/rulescape"]
CMD ["worker"]
