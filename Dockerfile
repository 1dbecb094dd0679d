# metrics-apiserver's image: built on Debian bookworm, run on bookworm-slim with
# only the libraries the binary links (RUNTIME_DEBS in the Makefile), as a
# non-root user.  Every build step is a make target that `make test` runs
# here (test/e2e/80-install.sh), since this workplace has no container engine.
#
#   docker build -t metrics-apiserver:latest .
#   kubectl apply -k manifests/base        (or manifests/overlays/<name>)

FROM debian:bookworm AS build
WORKDIR /src
COPY . .
RUN apt-get update -qq && apt-get install -y -qq make \
 && make deps-build \
 && make -j"$(nproc)" server \
 && make install DESTDIR=/out PREFIX=/usr \
 && make -s print-runtime-debs > /out/runtime-debs

FROM debian:bookworm-slim
COPY --from=build /out/runtime-debs /tmp/runtime-debs
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(cat /tmp/runtime-debs) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-debs
COPY --from=build /out/usr/bin/metrics-apiserver /usr/bin/metrics-apiserver
USER 65534:65534
ENTRYPOINT ["/usr/bin/metrics-apiserver"]
