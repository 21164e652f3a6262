# syntax=docker/dockerfile:1
#
# auditexport as a static binary on distroless: CA certificates, time zone
# data (also embedded in the binary), a non-root user, nothing else.
#
#   docker build -t auditexport \
#     --build-arg VERSION="$(git describe --tags --always)" \
#     --build-arg COMMIT="$(git rev-parse HEAD)" .
#
# The image runs with a read-only root filesystem: the only place it writes
# is TMPDIR (/tmp), where run.work_dir defaults; mount an emptyDir there.
# configs/kubernetes/validate runs this file's go build command as a test.

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The version and commit auditexport version prints and the archive
# records; the build context holds no .git (see .dockerignore), so they are
# passed in. Unset, the binary reports "devel" and "unknown".
ARG VERSION
ARG COMMIT
ARG TARGETOS
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w -X main.Version=${VERSION} -X main.Commit=${COMMIT}" -o /out/auditexport ./cmd/auditexport

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/auditexport /usr/local/bin/auditexport
# nonroot: uid/gid 65532, numeric so Kubernetes can check runAsNonRoot.
USER 65532:65532
ENV TMPDIR=/tmp \
    AUDITEXPORT_LOG_FORMAT=json
ENTRYPOINT ["/usr/local/bin/auditexport"]
CMD ["run"]
