# fieldreport for a server: gunicorn serving the app; PostgreSQL and Redis come from settings.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --create-home --home-dir /srv/fieldreport fieldreport
WORKDIR /srv/fieldreport/app
COPY pyproject.toml README.md ./
COPY fieldreport ./fieldreport
COPY worker ./worker
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY tools ./tools
RUN pip install --no-cache-dir -e . \
 && python -m fieldreport.i18n_tools compile \
 && mkdir -p /srv/fieldreport/data && chown fieldreport /srv/fieldreport/data
USER fieldreport
# FIELDREPORT_PROXY_HOPS: how many reverse proxies stand in front of gunicorn (set 1 behind one
# nginx/Caddy/load balancer). Exactly that many X-Forwarded-For/-Proto/-Host hops are trusted,
# so the log-in throttle and the audit log see each user's address. 0 (the default) ignores
# the headers: right when clients reach gunicorn directly (any client could forge them).
ENV FIELDREPORT_DATA_DIR=/srv/fieldreport/data \
    FIELDREPORT_SECURE_COOKIES=true \
    FIELDREPORT_PROXY_HOPS=0
VOLUME /srv/fieldreport/data
EXPOSE 8000
# Migrate, then serve. Workers: `docker run … fieldreport worker` with REDIS_URL set (compose.yaml).
# gunicorn's processes keep their metric values in PROMETHEUS_MULTIPROC_DIR, emptied at each
# start, so /metrics adds up every process (README, "Metrics"); set FIELDREPORT_METRICS_TOKEN.
CMD ["sh", "-c", "export PROMETHEUS_MULTIPROC_DIR=/tmp/fieldreport-metrics && rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && fieldreport init-db && exec gunicorn --bind 0.0.0.0:8000 --workers 3 --threads 4 'fieldreport:create_app()'"]
