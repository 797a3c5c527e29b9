# Production image: the same commands docker-compose.yml runs (gunicorn, celery worker, beat).
FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=billing_ops.settings.production \
    BILLING_OPS_VAR_DIR=/var/lib/billing-ops
WORKDIR /app
# WeasyPrint (appeal letters as PDF) needs Pango.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml ./
RUN pip install --no-cache-dir "setuptools>=70" \
    && pip install --no-cache-dir . && rm -rf build *.egg-info
COPY . .
RUN useradd --system --home /app billing && mkdir -p /var/lib/billing-ops/media \
    && chown -R billing /var/lib/billing-ops \
    && DJANGO_SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-0123456789abcdef \
       DATABASE_URL=postgresql://build@localhost/build \
       CELERY_BROKER_URL=redis://build:6379/0 REDIS_URL=redis://build:6379/1 \
       DJANGO_STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput
USER billing
EXPOSE 8000
CMD ["gunicorn", "billing_ops.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
