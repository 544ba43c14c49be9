# syntax=docker/dockerfile:1
# OpenSESA: a small runtime image with one binary, running as a non-root user.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p opensesa \
 && strip target/release/opensesa

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 opensesa \
 && useradd --system --uid 10001 --gid opensesa --home-dir /var/lib/opensesa --shell /usr/sbin/nologin opensesa \
 && mkdir -p /var/lib/opensesa /srv/opensesa/static \
 && chown -R opensesa:opensesa /var/lib/opensesa /srv/opensesa
COPY --from=build /src/target/release/opensesa /usr/local/bin/opensesa
USER opensesa:opensesa
ENV OPENSESA_LISTEN=0.0.0.0:8000 \
    OPENSESA_DATA_DIR=/var/lib/opensesa \
    OPENSESA_STATIC_ROOT=/srv/opensesa/static \
    OPENSESA_LOG_FORMAT=json
EXPOSE 8000
VOLUME ["/var/lib/opensesa", "/srv/opensesa/static"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 CMD ["opensesa", "healthcheck"]
ENTRYPOINT ["opensesa"]
CMD ["serve"]
