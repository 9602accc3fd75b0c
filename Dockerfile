# One image for every service of the loop; each compose service or Deployment runs it
# with its own command (`ringrift db upgrade`, `ringrift events topics create`, a service's
# main module, ...). Build: `docker compose build` or `docker build -t ringrift:dev .`
#
# Dependencies come from requirements.lock, exactly as `make env` installs them. That lock
# pins the PyPI torch wheel with its CUDA libraries, so the image runs on GPU nodes and is
# large (several GB); a CPU-only variant for small machines is left for later.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, in their own layer, so that a source change does not reinstall torch.
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock && pip check

COPY . .
RUN pip install --no-deps . \
    && useradd --uid 10001 --create-home ringrift \
    && mkdir -p /var/lib/ringrift/artifacts \
    && chown -R ringrift:ringrift /var/lib/ringrift

# A named volume mounted here starts with this ownership, so the unprivileged user can write.
# With an s3:// store (RINGRIFT_ARTIFACT_DIR), verified local copies go to the cache in /tmp.
VOLUME ["/var/lib/ringrift/artifacts"]
ENV RINGRIFT_ARTIFACT_DIR=/var/lib/ringrift/artifacts \
    RINGRIFT_ARTIFACT_CACHE=/tmp/ringrift-artifact-cache

USER ringrift
CMD ["ringrift", "--help"]
