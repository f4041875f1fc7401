# One image for every elearn-data process (the five services, the gateway, the one-shot `elearn migrate`);
# docker-compose.yml picks the process with `command`. Configuration comes from the environment only.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app
COPY . /app
# pip installs the dependencies and the `elearn` command; PYTHONPATH=/app runs the code from this folder,
# where `elearn migrate` finds sql/migrations next to it.
RUN pip install . && rm -rf build *.egg-info \
    && useradd --system --uid 10001 --home-dir /app elearn

USER elearn
EXPOSE 50051 50061 50062 50063 50064 50065
CMD ["python", "-m", "gateway.main"]
