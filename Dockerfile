# Newsroom in one image: gunicorn serving the app as a non-root user, the
# archive (SQLite database, Whoosh index, secret key) in the /data volume.
#
#   docker build -t newsroom .
#   docker run -p 8000:8000 -v newsroom-data:/data -e ALLOWED_HOSTS=news.example.org newsroom
#
# The first start imports the demo corpus and builds the index (a minute or
# two); later starts find them in the volume.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DJANGO_SETTINGS_MODULE=newsroom.settings \
    DEBUG=0 \
    NEWSROOM_VAR_DIR=/data \
    STATIC_ROOT=/app/staticfiles \
    NEWSROOM_BIND=0.0.0.0:8000

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# Static files are part of the image (hashed, gzipped). Settings need a key
# to load; this one exists only for this build step.
RUN SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput --verbosity 0

# The app's files stay root's and read-only; the user writes only to /data.
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home newsroom \
    && mkdir -p /data \
    && chown newsroom:newsroom /data
USER newsroom
VOLUME ["/data"]

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
    CMD ["/app/scripts/docker-entrypoint", "healthcheck"]

ENTRYPOINT ["/app/scripts/docker-entrypoint"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "newsroom.wsgi:application"]
