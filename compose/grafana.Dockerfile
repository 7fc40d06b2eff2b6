# Grafana with chaosbed's datasource and dashboards provisioned.
#
#   docker build -f compose/grafana.Dockerfile -t chaosbed/grafana .
#
# There is no offline base for Grafana (no registry here and no Debian
# package), so this image is built only where grafana/grafana can be pulled;
# the compose file runs it in the `grafana` profile.
ARG GRAFANA_BASE=grafana/grafana:11.3.0
FROM ${GRAFANA_BASE}
LABEL org.opencontainers.image.title="chaosbed grafana" \
      org.opencontainers.image.description="Grafana with chaosbed dashboards provisioned"
COPY dashboards/provisioning/ /etc/grafana/provisioning/
COPY dashboards/json/ /etc/grafana/dashboards/
ENV GF_AUTH_ANONYMOUS_ENABLED=true \
    GF_AUTH_ANONYMOUS_ORG_ROLE=Viewer \
    GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH=/etc/grafana/dashboards/chaosbed-overview.json
