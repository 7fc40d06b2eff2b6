# Prometheus with chaosbed's scrape config and recording rules baked in.
#
#   docker build -f compose/prometheus.Dockerfile -t chaosbed/prometheus .
#
# PROMETHEUS_BASE is prom/prometheus for users; offline, build-images.sh passes
# a Debian bookworm base with Debian's prometheus package laid out the same way
# (/bin/prometheus, /bin/promtool, /etc/prometheus, data in /prometheus).
ARG PROMETHEUS_BASE=prom/prometheus:v2.53.3
FROM ${PROMETHEUS_BASE}
LABEL org.opencontainers.image.title="chaosbed prometheus" \
      org.opencontainers.image.description="Prometheus with chaosbed scrape config and SLI recording rules"
COPY compose/prometheus/prometheus.yml /etc/prometheus/prometheus.yml
COPY compose/prometheus/rules/ /etc/prometheus/rules/
USER nobody
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", \
     "--storage.tsdb.path=/prometheus", \
     "--storage.tsdb.retention.time=2d", \
     "--web.listen-address=0.0.0.0:9090"]
