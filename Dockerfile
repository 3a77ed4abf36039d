# rightsizer: the monthly scheduler (default) or any other command.
#   docker build -t rightsizer .
#   docker run --rm -v "$PWD/config.toml:/srv/rightsizer/config.toml:ro" \
#     -v rightsizer-reports:/srv/rightsizer/reports -e RIGHTSIZER_SLACK_WEBHOOK rightsizer
#   docker run --rm rightsizer analyze --demo --output /tmp/out
#   docker run --rm rightsizer collect --shard auto/8 --output s3://bucket/runs/2026-12/   # a shard (docs/deploy.md)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the wheel needs (pyproject force-includes templates/); the demo extra keeps
# `analyze --demo` working in the image.
COPY pyproject.toml README.md /tmp/src/
COPY rightsizer /tmp/src/rightsizer
COPY templates /tmp/src/templates
RUN pip install "/tmp/src[demo]" && rm -rf /tmp/src

# Non-root; the working directory holds config.toml and reports/ (with the scheduler's
# state in reports/.scheduler/jobs.sqlite): mount a volume there so restarts keep it.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin rightsizer \
    && mkdir -p /srv/rightsizer/reports \
    && chown -R rightsizer:rightsizer /srv/rightsizer
WORKDIR /srv/rightsizer
USER rightsizer
VOLUME ["/srv/rightsizer/reports"]

# Exec form: rightsizer is PID 1 and gets docker stop's SIGTERM itself (it finishes a running
# analysis first, so give it time: docker stop -t 600 / stop_grace_period / stopTimeout).
ENTRYPOINT ["rightsizer"]
CMD ["schedule"]
