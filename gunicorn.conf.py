"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`."""
import multiprocessing
import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 60
graceful_timeout = 30
# Recycle workers now and then so memory stays flat over months of uptime.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Production unless told otherwise: the app then refuses a default SECRET_KEY or debug.
raw_env = [f"APP_ENV={os.environ.get('APP_ENV', 'production')}"]
