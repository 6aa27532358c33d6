"""Newsroom settings, read from the environment.

Production is the default: DEBUG is off, SECRET_KEY must be given (or be
written to var/secret_key by scripts/setup), hosts are explicit. The
development and test entry points switch DEBUG on themselves.
"""
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from newsroom.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("NEWSROOM_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)


def _secret_key():
    key = env_str("SECRET_KEY")
    if key:
        return key
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    if DEBUG:
        return "insecure-development-key-never-use-in-production"
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Export SECRET_KEY, or run scripts/setup once to "
        "write var/secret_key."
    )


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    # Before haystack: our rebuild_index, update_index and clear_index take
    # the place of haystack's, which write around the index queue's lock.
    "articles",
    "haystack",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "articles.security.ContentSecurityPolicyMiddleware",
    "articles.security.ApiRateLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'newsroom.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while an import writes; IMMEDIATE makes a writer
    # wait for the lock up front instead of failing half-way ("database is locked").
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Arabic interface, right to left, from Django's own i18n.
LANGUAGE_CODE = "ar"
LANGUAGES = [("ar", "العربية")]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "UTC")
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_str(
            "STATICFILES_STORAGE",
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
# Hashed file names (the manifest storage) are cached for good by whitenoise
# itself; this is for the few unhashed ones (favicon.ico), which may change.
WHITENOISE_MAX_AGE = env_int("WHITENOISE_MAX_AGE", 3600)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "newsroom",
    },
    # What costs a search to make and is the same in every worker (each
    # article's related stories, search pages): made once, read by all, kept
    # across restarts; keyed by the archive's version like the rest
    # (articles.caching).
    "shared": {
        "BACKEND": "articles.caching.SharedFileCache",
        "LOCATION": str(VAR_DIR / "cache" / "shared"),
        # A write that would wait on another worker's longer than this is
        # dropped (the value is made again when next needed), never waited for.
        "DATABASE_TIMEOUT": 0.05,
        "OPTIONS": {"size_limit": env_int("NEWSROOM_SHARED_CACHE_MB", 64) << 20},
    },
}

# Search: one setting picks the engine (articles.search.engines): a folder or
# whoosh:///path for the embedded Whoosh index (the default, under var/), or
# solr://host:8983[,host2:8983]/solr/<collection> for SolrCloud.
WHOOSH_INDEX_PATH = Path(env_str("WHOOSH_INDEX_PATH", str(VAR_DIR / "whoosh_index")))
SEARCH_URL = env_str("SEARCH_URL", "") or str(WHOOSH_INDEX_PATH)
SOLR_TIMEOUT = env_int("SOLR_TIMEOUT", 10)
# Haystack declares the index (articles/search_indexes.py) and hears model
# signals; for Whoosh its backend also builds the schema. A Solr site reads
# its schema from solr/configsets/, so haystack needs no backend of its own.
if SEARCH_URL.startswith("solr://"):
    HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
else:
    HAYSTACK_CONNECTIONS = {
        "default": {
            "ENGINE": "articles.search.engines.whoosh.backend.ArabicWhooshEngine",
            "PATH": SEARCH_URL.removeprefix("whoosh://"),
        },
    }
HAYSTACK_SIGNAL_PROCESSOR = "articles.signals.ArticleSignalProcessor"
HAYSTACK_SEARCH_RESULTS_PER_PAGE = 20
# Per worker process: decoded posting lists and document bitmaps of the
# index's segments, kept across index versions (articles.search.segments).
NEWSROOM_SEARCH_CACHE_MB = env_int("NEWSROOM_SEARCH_CACHE_MB", 96)

NEWSROOM_PAGE_SIZE = env_int("NEWSROOM_PAGE_SIZE", 20)
NEWSROOM_SITE_NAME = env_str("NEWSROOM_SITE_NAME", "نيوزروم")

LOGIN_URL = "admin:login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Deployment behind a TLS-terminating proxy: switched on from the environment.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The container's healthcheck speaks plain HTTP to the app itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# No inline script or style anywhere, nothing from other hosts (articles.security).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# Rate limits and sign-in throttling count in a file cache under var/, shared
# by every worker on this machine (articles.security).
CACHES["security"] = {
    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
    "LOCATION": str(VAR_DIR / "cache" / "security"),
    "OPTIONS": {"MAX_ENTRIES": 10000},
}


def _shared_caches(url):
    """The "shared" and "security" caches for SHARED_CACHE_URL, or
    ImproperlyConfigured saying what it may be."""
    if url == "db" or url.startswith("db://"):
        table = url.removeprefix("db").removeprefix("://") or "newsroom_cache"
        if not table.isidentifier() or not table.isascii():
            raise ImproperlyConfigured(f"SHARED_CACHE_URL {url!r}: the table name must be letters, digits and _")
        backend = "django.core.cache.backends.db.DatabaseCache"
        # A table each: culling a full page cache must not reset sign-in counters.
        shared = {"LOCATION": table, "OPTIONS": {"MAX_ENTRIES": env_int("NEWSROOM_SHARED_CACHE_ENTRIES", 20000)}}
        security = {"LOCATION": f"{table}_security", "OPTIONS": {"MAX_ENTRIES": 10000}}
    elif url.startswith(("redis://", "rediss://", "unix://")):
        backend = "django.core.cache.backends.redis.RedisCache"
        # A slow Redis costs a page its cache (articles.caching), never a hang.
        timeouts = {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}
        shared = {"LOCATION": url, "KEY_PREFIX": "newsroom-shared", "OPTIONS": timeouts}
        security = {"LOCATION": url, "KEY_PREFIX": "newsroom-security", "OPTIONS": timeouts}
    else:
        raise ImproperlyConfigured(
            f"SHARED_CACHE_URL {url!r} is not one of: files, db, db://<table>, redis://host:6379/0"
        )
    return {"BACKEND": backend, **shared}, {"BACKEND": backend, **security}


# Several app servers must share the "shared" and "security" caches, or each
# serves its own old pages and counts its own failed sign-ins (an attacker
# would get the limit once per server). SHARED_CACHE_URL says where they are:
#   files (the default)   this machine's files under var/ (one machine, Whoosh)
#   db, db://<table>      Django's DatabaseCache in the default database, table
#                         newsroom_cache (and <table>_security), made by migrate
#   redis://host:6379/0   Django's RedisCache
# A SolrCloud site defaults to db, so that DATABASE_URL and SEARCH_URL alone
# make app servers that keep nothing of their own.
SHARED_CACHE_URL = (env_str("SHARED_CACHE_URL", "") or "").strip() or (
    "db" if SEARCH_URL.startswith("solr://") else "files"
)
if SHARED_CACHE_URL != "files":
    CACHES["shared"], CACHES["security"] = _shared_caches(SHARED_CACHE_URL)
# Behind a reverse proxy, how many proxies append to X-Forwarded-For: the
# client's address is read from it only then (0: REMOTE_ADDR is the client).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
API_RATE_LIMIT_REQUESTS = env_int("API_RATE_LIMIT_REQUESTS", 60)  # 0 switches the limit off
API_RATE_LIMIT_WINDOW = env_int("API_RATE_LIMIT_WINDOW", 60)  # seconds
API_RATE_LIMITED_PATHS = ["/api/search"]
AUTHENTICATION_BACKENDS = ["articles.security.ThrottledModelBackend"]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)  # per address and username
LOGIN_FAILURE_LIMIT_PER_IP = env_int("LOGIN_FAILURE_LIMIT_PER_IP", 20)  # per address, any username
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)
