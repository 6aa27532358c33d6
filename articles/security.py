"""What keeps strangers out: the Content-Security-Policy, rate limits on the
search API, and throttled admin sign-ins.

Counters live in the "security" cache (settings.CACHES), a file cache under
var/ by default so that every gunicorn worker of one machine shares them;
a per-process memory cache would give an attacker one allowance per worker.
The counters are approximate under races (two workers may both read 4 and
write 5), which only lets a burst through by a request or two.
"""
import hashlib
import math
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.utils.translation import gettext, gettext_lazy as _

SECURITY_CACHE = "security"


def _cache():
    return caches[SECURITY_CACHE if SECURITY_CACHE in settings.CACHES else "default"]


def _key(*parts):
    # Usernames and addresses may hold anything; a digest is a safe cache key.
    digest = hashlib.sha256("\x00".join(str(part) for part in parts).encode("utf-8")).hexdigest()
    return f"newsroom-security:{digest}"


def client_ip(request):
    """The address of the client, not of the reverse proxy in front.

    With TRUSTED_PROXY_COUNT = n proxies each appending to X-Forwarded-For,
    the client is the n-th address from the right; anything further left was
    written by the client itself and cannot be trusted.
    """
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


class Window:
    """A counter that starts at the first hit and resets `seconds` later."""

    def __init__(self, key, seconds):
        self.key = key
        self.seconds = seconds

    def _read(self, now):
        value = _cache().get(self.key)
        if not value or value[1] <= now:
            return 0, now + self.seconds
        return value

    def count(self):
        return self._read(time.time())[0]

    def hit(self):
        """Count one more; returns (count, seconds until the window ends)."""
        now = time.time()
        count, resets_at = self._read(now)
        count += 1
        _cache().set(self.key, (count, resets_at), timeout=max(1, math.ceil(resets_at - now)))
        return count, resets_at - now

    def retry_after(self):
        count, resets_at = self._read(time.time())
        return max(1, math.ceil(resets_at - time.time())) if count else 0

    def reset(self):
        _cache().delete(self.key)


# ---------------------------------------------------------------------------
# Headers


class ContentSecurityPolicyMiddleware:
    """Send settings.CONTENT_SECURITY_POLICY (and PERMISSIONS_POLICY) with every
    response that has not set its own. The policy allows no inline script or
    style: a title an importer let through as HTML could not run even if a
    template forgot to escape it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        permissions = getattr(settings, "PERMISSIONS_POLICY", "")
        if permissions and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = permissions
        return response


# ---------------------------------------------------------------------------
# API rate limiting


class ApiRateLimitMiddleware:
    """At most API_RATE_LIMIT_REQUESTS requests per API_RATE_LIMIT_WINDOW
    seconds per client address on API_RATE_LIMITED_PATHS; beyond that a 429
    with a JSON error and Retry-After. A limit of 0 switches it off."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = getattr(settings, "API_RATE_LIMIT_REQUESTS", 0)
        if limit > 0 and request.path in getattr(settings, "API_RATE_LIMITED_PATHS", ()):
            window = Window(_key("api", request.path, client_ip(request)), settings.API_RATE_LIMIT_WINDOW)
            count, remaining_seconds = window.hit()
            if count > limit:
                retry_after = max(1, math.ceil(remaining_seconds))
                response = JsonResponse(
                    {
                        "error": gettext("Too many requests: at most %(limit)d every %(seconds)d seconds.")
                        % {"limit": limit, "seconds": settings.API_RATE_LIMIT_WINDOW},
                        "retry_after": retry_after,
                    },
                    status=429,
                    json_dumps_params={"ensure_ascii": False},
                )
                response["Retry-After"] = str(retry_after)
                return response
        return self.get_response(request)


# ---------------------------------------------------------------------------
# Sign-in throttling


def _login_windows(request, username):
    ip = client_ip(request)
    seconds = settings.LOGIN_LOCKOUT_SECONDS
    normalized = (username or "").strip().casefold()
    return (
        (Window(_key("login", ip, normalized), seconds), settings.LOGIN_FAILURE_LIMIT),
        (Window(_key("login-ip", ip), seconds), settings.LOGIN_FAILURE_LIMIT_PER_IP),
    )


def login_locked_for(request, username):
    """Seconds until this address may try this username again, or 0."""
    if request is None:
        return 0
    waits = [window.retry_after() for window, limit in _login_windows(request, username) if limit and window.count() >= limit]
    return max(waits, default=0)


def record_login_failure(request, username):
    if request is not None:
        for window, _limit in _login_windows(request, username):
            window.hit()


def record_login_success(request, username):
    if request is not None:
        # Only this account's counter: a password typed right must not also
        # clear what the same address did to other accounts.
        _login_windows(request, username)[0][0].reset()


class ThrottledModelBackend(ModelBackend):
    """Django's own backend, refusing to check passwords for an address that
    failed too often on an account (or on too many accounts) lately.

    Every sign-in that goes through django.contrib.auth passes here, whatever
    the page, so the limit holds even where the admin's form is not used.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if login_locked_for(request, username):
            # PermissionDenied stops authenticate() from trying other backends.
            raise PermissionDenied("too many failed sign-ins")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_login_failure(request, username)
        else:
            record_login_success(request, username)
        return user

    @staticmethod
    def _username_field():
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


LOCKED_OUT_MESSAGE = _(
    "Too many failed sign-in attempts. For your security, signing in is paused; "
    "try again in %(minutes)d min."
)


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in form, saying plainly when sign-in is paused
    instead of repeating "wrong password" to someone who typed it right."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked_out": LOCKED_OUT_MESSAGE,
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        self._raise_if_locked(username)
        try:
            return super().clean()
        except ValidationError:
            # The failure that reached the limit says so at once.
            self._raise_if_locked(username)
            raise

    def _raise_if_locked(self, username):
        seconds = login_locked_for(self.request, username)
        if seconds:
            raise ValidationError(
                self.error_messages["locked_out"],
                code="locked_out",
                params={"minutes": max(1, math.ceil(seconds / 60))},
            )
