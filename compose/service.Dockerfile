# One image for the four services; compose picks the service with its command
# (`python -m services.<name>`). Built from the repository root:
#
#   docker build -f compose/service.Dockerfile -t chaosbed/service .
#
# PYTHON_BASE is python:3.11-slim-bookworm for users. Offline, build-images.sh
# passes a locally built Debian bookworm base and fills compose/wheelhouse/, and
# pip then installs from that wheelhouse only (--no-index). The legacy builder
# and BuildKit both build this file.
ARG PYTHON_BASE=python:3.11-slim-bookworm

FROM ${PYTHON_BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
COPY compose/pip-install.sh /usr/local/bin/chaosbed-pip-install
COPY compose/wheelhouse/ /wheelhouse/
COPY pyproject.toml /src/
# Dependencies first, in their own layer, so a code change does not reinstall them.
RUN python3 -m venv /opt/chaosbed \
 && python3 -c 'import tomllib; print("\n".join(tomllib.load(open("/src/pyproject.toml", "rb"))["project"]["dependencies"]))' \
      > /src/requirements.txt \
 && sh /usr/local/bin/chaosbed-pip-install -r /src/requirements.txt
COPY services/ /src/services/
COPY chaos/ /src/chaos/
RUN sh /usr/local/bin/chaosbed-pip-install --no-deps /src

FROM ${PYTHON_BASE}
RUN groupadd --system --gid 10001 chaosbed \
 && useradd --system --uid 10001 --gid chaosbed --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin chaosbed \
 && mkdir -p /data \
 && chown chaosbed:chaosbed /data
LABEL org.opencontainers.image.title="chaosbed services" \
      org.opencontainers.image.description="The four chaosbed services; run one with python -m services.<name>"
COPY --from=build /opt/chaosbed /opt/chaosbed
COPY compose/healthcheck.py /opt/chaosbed/healthcheck.py
ENV PATH=/opt/chaosbed/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CHAOSBED_HOST=0.0.0.0 \
    CHAOSBED_PROFILES_DB=/data/profiles.db
WORKDIR /data
USER chaosbed:chaosbed
STOPSIGNAL SIGTERM
CMD ["python", "-m", "services.catalog"]
