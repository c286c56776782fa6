"""Per-user language, security headers, and refusal of request data no database can store."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class UserLanguageMiddleware:
    """Activate the language saved in the user's profile (en or fr)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        profile = getattr(user, "profile", None) if user is not None and user.is_authenticated else None
        if profile is not None and profile.language in ("en", "fr"):
            translation.activate(profile.language)
            request.LANGUAGE_CODE = profile.language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language() or "en")
        return response


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault("Cache-Control", "no-store")
        return response


class RequestDataMiddleware:
    """Refuse U+0000 anywhere in a request (PostgreSQL cannot store it in text) and oversized bodies.

    400 ``bad_request`` for a NUL character in the path, the query string or the body; 413
    ``too_large`` for a body above ``DATA_UPLOAD_MAX_MEMORY_SIZE``. JSON under ``/api/``, plain text
    elsewhere. The API router's plain-text 405 becomes JSON ``method_not_allowed`` as well.
    Checked once here so SQLite and PostgreSQL answer alike, whatever the endpoint.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def _refuse(self, request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"code": code, "detail": detail}, status=status)
        return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nul = "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", "")
        if not nul and request.method in ("POST", "PUT", "PATCH"):
            try:
                body = request.body
            except RequestDataTooBig:
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                return self._refuse(request, 413, "too_large", f"Request body larger than {limit} bytes.")
            form = request.content_type == "application/x-www-form-urlencoded"
            nul = b"\x00" in body or (b"%00" in body if form else b"\\u0000" in body)
        if nul:
            return self._refuse(request, 400, "bad_request", "Invalid request: a NUL character (U+0000).")
        response = self.get_response(request)
        if response.status_code == 405 and request.path.startswith("/api/"):  # the router's plain-text 405
            allowed = response.headers.get("Allow", "")
            json_response = self._refuse(request, 405, "method_not_allowed", f"Method not allowed. Allowed: {allowed}.")
            json_response.headers["Allow"] = allowed
            return json_response
        return response
