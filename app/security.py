"""Random tokens, their digests, CSRF tokens and the security headers."""

import hashlib
import hmac
import secrets

from app.config import get_settings


def new_token(prefix: str = "") -> str:
    """A random token with 256 bits of entropy, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """How tokens are stored: SHA-256, so a database leak does not leak working tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_digest(value: str) -> str:
    """An HMAC with the secret key, for values that must be matched but not stored (emails)."""
    key = get_settings().secret_key.get_secret_value().encode()  # type: ignore[union-attr]
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def csrf_token_for(binding: str) -> str:
    """The CSRF token for a browser, bound to its CSRF cookie value (signed double submit)."""
    return keyed_digest("csrf:" + binding)


def csrf_token_valid(binding: str | None, token: str | None) -> bool:
    if not binding or not token:
        return False
    return hmac.compare_digest(csrf_token_for(binding), token)


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
