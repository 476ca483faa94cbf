"""The app factory: middleware, error handlers and every router."""

import importlib
import logging
import re
import secrets
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.agreements import api as agreements_api
from app.agreements import commitment_api, commitment_views
from app.agreements import views as agreements_views
from app.audit import access_review_api, access_review_views
from app.audit import api as audit_api
from app.audit import views as audit_views
from app.auth import api as auth_api
from app.auth import views as auth_views
from app.auth.service import issue_setup_token
from app.body_limit import BodySizeLimit
from app.conferences import api as conferences_api
from app.conferences import preparation_api, preparation_views, scheduling_api, scheduling_views
from app.conferences import views as conferences_views
from app.config import PROJECT_ROOT, get_settings
from app.crypto import RedactCiphertext
from app.db import get_engine
from app.errors import AppError, Condition, NotAuthenticated
from app.i18n import DEFAULT_LANGUAGE, N_, gettext, load_catalogs, negotiate, set_language
from app.openapi import install_openapi
from app.portal import agreement_api as portal_agreement_api
from app.portal import agreement_views as portal_agreement_views
from app.portal import api as portal_api
from app.portal import commitment_api as portal_commitment_api
from app.portal import commitment_views as portal_commitment_views
from app.portal import views as portal_views
from app.programs import api as programs_api
from app.programs import views as programs_views
from app.retention import api as retention_api
from app.retention import views as retention_views
from app.safety import api as safety_api
from app.safety import views as safety_views
from app.security import SECURITY_HEADERS
from app.web import CSRF_COOKIE, is_htmx, render

logger = logging.getLogger("mend")
logger.addFilter(RedactCiphertext())
_REQUEST_ID = re.compile(r"^[A-Za-z0-9\-_.]{8,64}$")
# Paths that choose their language themselves: the API (English) and the portal (the participant's).
_OWN_LANGUAGE_PATHS = ("/api/", "/portal", "/static/")


def announce_setup_link() -> str | None:
    """On a start with no accounts, print a one-time link for the first administrator."""
    with Session(get_engine()) as session:
        token = issue_setup_token(session)
        session.commit()
    if token is None:
        return None
    url = f"{get_settings().public_base_url}/setup/{token}"
    print(f"\nMend has no accounts yet. Create the first administrator here (one use only):\n  {url}\n", flush=True)
    return url


def _warm_up_pdf_engine() -> None:
    # Importing WeasyPrint takes seconds; do it once in the background at start-up, so the request
    # that seals an agreement does not also pay for it.
    threading.Thread(target=importlib.import_module, args=("weasyprint",), daemon=True).start()


@asynccontextmanager
async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
    announce_setup_link()
    _warm_up_pdf_engine()
    yield


FAVICON = PROJECT_ROOT / "app" / "static" / "favicon.ico"


def favicon() -> FileResponse:
    """Browsers ask every site for /favicon.ico: answer with Mend's own small, plain icon, not a 404."""
    return FileResponse(FAVICON, media_type="image/x-icon")


def create_app() -> FastAPI:
    settings = get_settings()
    load_catalogs()
    app = FastAPI(
        title="Mend",
        summary="Restorative-justice case management: cases, preparation, scheduling, agreements, compliance.",
        version="0.1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # the default docs page loads scripts from a CDN; Mend sends nothing to third parties
        redoc_url=None,
        lifespan=lifespan,
    )
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "app" / "static"), name="static")
    app.add_api_route("/favicon.ico", favicon, methods=["GET"], include_in_schema=False)
    for router in (
        auth_views.router,
        programs_views.router,
        conferences_views.router,
        preparation_views.router,
        scheduling_views.router,
        safety_views.router,
        agreements_views.router,
        commitment_views.router,
        portal_views.router,
        portal_agreement_views.router,
        portal_commitment_views.router,
        audit_views.router,
        access_review_views.router,
        retention_views.router,
        auth_api.router,
        programs_api.router,
        conferences_api.router,
        preparation_api.router,
        scheduling_api.router,
        safety_api.router,
        agreements_api.router,
        commitment_api.router,
        portal_api.router,
        portal_agreement_api.router,
        portal_commitment_api.router,
        audit_api.router,
        access_review_api.router,
        retention_api.router,
    ):
        app.include_router(router)
    _install_middleware(app, https=settings.public_base_url.startswith("https://"))
    _install_error_handlers(app)
    install_openapi(app)
    return app


def _install_middleware(app: FastAPI, *, https: bool) -> None:
    # Added first, so it runs inside request_context: its refusals get the language and the headers.
    app.add_middleware(
        BodySizeLimit,
        max_bytes=get_settings().max_body_bytes,
        refuse=lambda request, exc: app.exception_handlers[StarletteHTTPException](request, exc),
    )

    @app.middleware("http")
    async def request_context(request: Request, call_next):  # type: ignore[no-untyped-def]
        incoming = request.headers.get("x-request-id", "")
        request.state.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(16)
        binding = request.cookies.get(CSRF_COOKIE)
        new_binding = None if binding and len(binding) >= 32 else secrets.token_urlsafe(32)
        request.state.csrf_binding = binding if new_binding is None else new_binding
        # Staff pages speak the browser's language; the API stays English, the portal the participant's.
        own = request.url.path.startswith(_OWN_LANGUAGE_PATHS)
        set_language(DEFAULT_LANGUAGE if own else negotiate(request.headers.get("accept-language")))
        response: Response = await call_next(request)
        if new_binding:
            response.set_cookie(
                CSRF_COOKIE,
                new_binding,
                httponly=True,
                samesite="lax",
                secure=https or request.url.scheme == "https",
                path="/",
            )
        response.headers["X-Request-ID"] = request.state.request_id
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if https or request.url.scheme == "https":
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response


_BARE_ERROR_PAGE = (
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>Something went wrong</title>'
    "<main><h1>Something went wrong</h1><p>Nothing was changed. Please try again.</p></main></html>"
)


def _shown(text: str) -> str:
    """Wording for an error page, in the page's language when it is a marked message (else as it is)."""
    return gettext(text) if text else text


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem(
    request: Request, *, status: int, title: str, detail: str, extra: dict | None = None, slug: str | None = None
) -> JSONResponse:
    """An RFC 9457 problem details response."""
    body = {
        "type": f"urn:mend:problem:{slug or title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
    } | (extra or {})
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _conditions(conditions: list[Condition]) -> list[dict[str, str | int | None]]:
    return [{"code": c.code, "message": c.message, "participant_id": c.participant_id} for c in conditions]


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        if isinstance(exc, NotAuthenticated) and not _wants_json(request):
            target = "/login?next=" + request.url.path if request.method == "GET" else "/login"
            if is_htmx(request):
                return Response(status_code=200, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
        if _wants_json(request):
            extra: dict = {}
            if exc.conditions:
                extra["conditions"] = _conditions(exc.conditions)
            if exc.field_errors:
                extra["errors"] = [{"field": k, "message": v} for k, v in exc.field_errors.items()]
            headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
            response = problem(request, status=exc.status_code, title=exc.title, detail=exc.message, extra=extra)
            if headers:
                response.headers.update(headers)
            return response
        return render(
            request,
            "errors/error.html",
            # The page's language where the wording is a marked message (titles, fixed messages).
            {"title": _shown(exc.title), "message": _shown(exc.message), "conditions": exc.conditions},
            status_code=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                "location": str(e["loc"][0]),
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        if _wants_json(request):
            return problem(
                request,
                status=422,
                title="Malformed request",
                slug="malformed-request",
                detail="The request does not match the schema.",
                extra={"errors": errors},
            )
        return render(
            request,
            "errors/error.html",
            {
                "title": _shown(N_("The request was not understood")),
                "message": _shown(
                    N_("Part of the address or form was not in the expected format. Go back and try again.")
                ),
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and _wants_json(request):
            # FastAPI's answer to a body it cannot decode (not UTF-8, a broken form): malformed, like bad JSON.
            return problem(
                request,
                status=422,
                title="Malformed request",
                slug="malformed-request",
                detail="The request body could not be read: send UTF-8 JSON.",
                extra={"errors": [{"field": "body", "location": "body", "message": str(exc.detail)}]},
            )
        titles = {404: N_("Not found"), 405: N_("Method not allowed"), 413: N_("Too much was sent")}
        details = {
            404: N_("There is nothing at this address."),
            413: N_("What was sent is larger than Mend accepts. Nothing was saved. Shorten it and send it again."),
        }
        title = titles.get(exc.status_code, N_("Request refused"))
        detail = details.get(exc.status_code, str(exc.detail))
        if _wants_json(request):
            return problem(request, status=exc.status_code, title=title, detail=detail)
        page = {"title": _shown(title), "message": _shown(detail)}
        return render(request, "errors/error.html", page, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error (request %s)", getattr(request.state, "request_id", "?"))
        detail = N_("Something went wrong on our side. Nothing was changed. Please try again.")
        response: Response
        if _wants_json(request):
            response = problem(request, status=500, title="Internal error", slug="internal-error", detail=detail)
        else:
            try:
                page = {"title": _shown(N_("Something went wrong")), "message": _shown(detail)}
                response = render(request, "errors/error.html", page, status_code=500)
            except Exception:
                # The page shell itself failed: still answer a page, never the server's bare text.
                logger.exception("the error page failed (request %s)", getattr(request.state, "request_id", "?"))
                response = HTMLResponse(_BARE_ERROR_PAGE, status_code=500)
        response.headers.update(SECURITY_HEADERS | {"Cache-Control": "no-store"})
        return response
