# The Tempodesk image: one image for the web app, the worker and the migrations.
#
#   docker build -t tempodesk .
#   docker run --env-file tempodesk.env -p 127.0.0.1:8000:8000 tempodesk   # web (default)
#   docker run --env-file tempodesk.env tempodesk tempodesk worker          # a worker
#   docker run --env-file tempodesk.env tempodesk tempodesk db upgrade      # migrations
#
# No ENTRYPOINT, so any command can replace the default one. All configuration, secrets
# included, comes from TEMPODESK_* variables at run time; nothing is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 tempodesk \
    && useradd --system --uid 10001 --gid tempodesk --home-dir /app --shell /usr/sbin/nologin tempodesk

WORKDIR /src
COPY . .
RUN pip install -c requirements.lock . && cd / && rm -rf /src

# var/ (TEMPODESK_VAR_DIR's default, relative to here) is the only place Tempodesk writes.
WORKDIR /app
RUN mkdir var && chown -R tempodesk:tempodesk /app
USER 10001:10001

EXPOSE 8000
# gthread workers: a few processes, each with a few threads (the Flask views block on
# Temporal updates). No --preload: each worker must build its own Temporal client thread.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--workers", "2", "--threads", "8", "--timeout", "60", "--graceful-timeout", "30", "--access-logfile", "-", "tempodesk.app.wsgi:app"]
