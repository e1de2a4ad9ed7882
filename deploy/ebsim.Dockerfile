# syntax=docker/dockerfile:1
# ebsim, the deterministic simulator: a static pure-Go binary (CGO_ENABLED=0, no
# libzmq) on a distroless base with no shell. Build from the repository root:
#
#   docker build -f deploy/ebsim.Dockerfile --build-arg VERSION=$(git rev-parse HEAD) -t ebsim .
#
# VERSION is the build identifier that sweep --out writes on every line; merge
# refuses to mix lines of two builds, so every shard of a sweep must run this image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=${VERSION}" -o /out/ebsim ./cmd/ebsim

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ebsim /ebsim
USER nonroot:nonroot
ENTRYPOINT ["/ebsim"]
