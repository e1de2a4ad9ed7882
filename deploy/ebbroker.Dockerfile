# syntax=docker/dockerfile:1
# ebbroker, the production broker: pebbe/zmq4 needs cgo and libzmq, so it builds
# against libzmq3-dev and runs on Debian with the libzmq5 runtime library. Build from
# the repository root:
#
#   docker build -f deploy/ebbroker.Dockerfile -t ebbroker .
#   docker run --rm -p 5555:5555 -p 5556:5556 ebbroker
FROM golang:1.26-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libzmq3-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -buildvcs=false -o /out/ebbroker ./cmd/ebbroker

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libzmq5 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ebbroker /usr/local/bin/ebbroker
USER 65532:65532
# Clients connect to the frontend, workers to the backend (ebbroker -h).
EXPOSE 5555 5556
ENTRYPOINT ["/usr/local/bin/ebbroker"]
