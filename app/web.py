"""Rendering helpers shared by every HTML router: full page or HTMX fragment, redirects, forms."""

import base64
import hmac
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import pass_context
from jinja2.runtime import Context
from jinja2_fragments.fastapi import Jinja2Blocks
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from app.auth.dependencies import SESSION_COOKIE
from app.conferences.models import CLOSURE_REASONS
from app.config import PROJECT_ROOT, get_settings
from app.db import MAX_ID
from app.errors import AppError
from app.i18n import N_, Labels, current_language, for_page, gettext, language_names, written
from app.i18n import install as install_i18n
from app.schemas import EVERY_ERROR, ErrorWords
from app.security import csrf_token_for, csrf_token_valid, keyed_digest

templates = Jinja2Blocks(directory=PROJECT_ROOT / "templates")
install_i18n(templates.env)
FLASH_COOKIE = "mend_flash"
CSRF_COOKIE = "mend_csrf"

Model = TypeVar("Model", bound=BaseModel)


@pass_context
def local_time(context: Context, value: datetime | None, fmt: str = "%d %b %Y, %H:%M") -> str:
    """A UTC time shown in the program's time zone, with month and day names in the page's language."""
    if value is None:
        return ""
    return written(value, fmt, language=context.get("lang") or current_language(), timezone=context.get("tz") or "UTC")


@pass_context
def language_name(context: Context, code: str) -> str:
    """A language code's name in the page's language (Babel's CLDR names): {{ "ar"|language_name }} is árabe."""
    return language_names([code], language=context.get("lang") or current_language())[code]


templates.env.filters["local_time"] = local_time
templates.env.filters["language_name"] = language_name
templates.env.globals["closure_labels"] = {reason.value: label for reason, label in CLOSURE_REASONS.items()}


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def base_context(request: Request) -> dict[str, Any]:
    return {
        "csrf_token": csrf_token_for(binding) if (binding := getattr(request.state, "csrf_binding", None)) else "",
        "current_user": getattr(request.state, "viewer", None),
        "session_seconds_left": getattr(request.state, "session_seconds_left", None),
        "tz": getattr(request.state, "timezone", "UTC"),
        "flashes": _read_flash(request),
        "lang": current_language(),
        "closure_labels": Labels({reason.value: label for reason, label in CLOSURE_REASONS.items()}),
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str = "content",
) -> HTMLResponse:
    """The whole page, or only its content block for an HTMX request."""
    ctx = {name: for_page(value) for name, value in (base_context(request) | (context or {})).items()}
    response = templates.TemplateResponse(
        request, template, ctx, status_code=status_code, block_name=block if is_htmx(request) else None
    )
    response.headers["Vary"] = "HX-Request"
    if ctx["flashes"]:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(request: Request, url: str, *, flash: str | None = None) -> Response:
    """After a successful POST: HX-Redirect for HTMX, 303 See Other otherwise."""
    response: Response
    if request.headers.get("HX-Request") == "true":
        response = Response(status_code=200, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if flash:
        encoded = base64.urlsafe_b64encode(flash.encode()).decode()
        response.set_cookie(
            FLASH_COOKIE,
            f"{encoded}.{keyed_digest('flash:' + encoded)[:32]}",
            max_age=60,
            httponly=True,
            samesite="lax",
            # As the session cookie: Secure when Mend is served over https, even if the proxy does not say so.
            secure=get_settings().public_base_url.startswith("https://") or request.url.scheme == "https",
            path="/",
        )
    return response


def _read_flash(request: Request) -> list[str]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return []
    encoded, signature = raw.rsplit(".", 1)
    if not hmac.compare_digest(keyed_digest("flash:" + encoded)[:32], signature):
        return []
    try:
        return [base64.urlsafe_b64decode(encoded.encode()).decode()]
    except ValueError:
        return []


def optional_id(value: str) -> int | None:
    """A record id typed into a filter box or form, or None when it is empty or cannot be one."""
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


async def form_data(request: Request) -> FormData:
    """The submitted form, for plain `def` routes that validate it into a schema."""
    return await request.form()


# Plain words for pydantic's error types, with the limits it reports filled in (ctx). They fit any field, so a
# form's field says its own with app.schemas.says() (what to enter, for that field); these are only what a
# field without its own words falls back to, and tests/test_staff_forms.py refuses them on a staff form.
_FRIENDLY = {
    "missing": N_("This is required."),
    "string_too_short": N_("This is required."),  # min_length 1; a longer minimum says how long
    "none_required": N_("This is required."),
    "string_type": N_("This is required."),
    "int_type": N_("This is required."),
    "date_type": N_("This is required."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "int_parsing": N_("Enter a whole number, for example 12."),
    "int_from_float": N_("Enter a whole number, for example 12."),
    "float_parsing": N_("Enter a number, for example 150.00."),
    "decimal_parsing": N_("Enter a number, for example 150.00."),
    "decimal_max_places": N_("Enter a number with at most %(decimal_places)s decimals, for example 150.00."),
    "decimal_max_digits": N_("Enter a smaller number."),
    "bool_parsing": N_("Choose yes or no."),
    "date_parsing": N_("Enter a real date, for example 2027-03-28."),
    "date_from_datetime_parsing": N_("Enter a real date, for example 2027-03-28."),
    "datetime_parsing": N_("Enter a real date and time, for example 2027-03-28 14:30."),
    "datetime_from_date_parsing": N_("Enter a real date and time, for example 2027-03-28 14:30."),
    "time_parsing": N_("Enter a time, for example 14:30."),
    "less_than_equal": N_("Enter a number no more than %(le)s."),
    "less_than": N_("Enter a number below %(lt)s."),
    "greater_than_equal": N_("Enter a number of at least %(ge)s."),
    "greater_than": N_("Enter a number above %(gt)s."),
    "string_too_long": N_("Use at most %(max_length)s characters."),
    "too_long": N_("Choose at most %(max_length)s."),
    "too_short": N_("Choose at least %(min_length)s."),
    "list_type": N_("Choose one or more of the options."),
    "json_invalid": N_("Check what you entered and try again."),
}
_LONGER = N_("Use at least %(min_length)s characters.")
# An error type Mend has no words for still never shows pydantic's English on a page.
_FALLBACK = N_("Check this answer and try again.")
# Errors raised with ValueError(N_("...")) in a validator carry Mend's own wording: shown as written, translated.
_OWN_WORDS = frozenset({"value_error", "assertion_error"})
# The error types that mean nothing was given: a field's "missing" words answer them all.
_NOTHING_GIVEN = frozenset({"missing", "none_required", "string_type", "int_type", "date_type", "bool_type"})


def _own_words(model: type[BaseModel] | None, error: Any) -> dict[str, str]:
    field = model.model_fields.get(str(error["loc"][0])) if model is not None and error.get("loc") else None
    extra = field.json_schema_extra if field is not None else None
    return extra.words if isinstance(extra, ErrorWords) else {}


def friendly_message(error: Any, *, model: type[BaseModel] | None = None) -> str:
    """One pydantic error in Mend's words, in the page's language, with the limits it reports filled in."""
    kind = str(error["type"])
    if kind in _OWN_WORDS:
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if message.startswith("value is not a valid email address"):  # email-validator's own English
            message = str(_own_words(model, error).get(EVERY_ERROR) or _EMAIL_WORDS)
        return gettext(message)
    ctx = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, (int, float, str, Decimal))}
    nothing = kind in _NOTHING_GIVEN or (kind == "string_too_short" and int(ctx.get("min_length", 1)) <= 1)
    own = _own_words(model, error)
    if kind in own:
        template = str(own[kind])
    elif nothing and "missing" in own:
        template = str(own["missing"])
    elif EVERY_ERROR in own:
        template = str(own[EVERY_ERROR])
    elif kind == "string_too_short" and not nothing:
        template = _LONGER
    else:
        template = _FRIENDLY.get(kind, _FALLBACK)
    text = gettext(template)
    try:
        return text % ctx if "%(" in text else text
    except (KeyError, TypeError, ValueError):
        return gettext(_FALLBACK)


_EMAIL_WORDS = N_("Enter an email address in the right form, like name@example.org.")


def field_errors(exc: ValidationError, *, model: type[BaseModel] | None = None) -> dict[str, str]:
    """Pydantic errors as one plain message per form field, in the page's language."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "__all__"
        errors.setdefault(name, friendly_message(error, model=model))
    return errors


def translated(errors: dict[str, str]) -> dict[str, str]:
    """Field messages from the service, in the page's language where Mend words them (marked with N_)."""
    return {name: gettext(message) if message else message for name, message in errors.items()}


def validate_form(
    model: type[Model],
    form: FormData,
    *,
    lists: tuple[str, ...] = (),
    flags: tuple[str, ...] = (),
    required: tuple[str, ...] = (),
) -> tuple[Model | None, dict[str, str]]:
    """Validate a form into the same schema the API uses. Returns (model, {}) or (None, errors).

    `lists` are multi-value fields (checkbox groups); `flags` are single checkboxes, absent when off.
    Empty text fields count as not given, so optional fields keep their defaults; but `required` names the
    fields an edit form marks required, where an emptied one is refused with the field's words rather than
    silently left as it was (an update schema's fields are all optional, for the API's partial updates).
    """
    data: dict[str, Any] = {}
    for key in form.keys():
        if key == "csrf_token" or key in lists:
            continue
        value = form.get(key)
        field = model.model_fields.get(key)
        optional = field is None or not field.is_required()
        if isinstance(value, str) and value.strip() == "":
            if optional and key not in required:
                continue
            value = ""  # only spaces is empty too
        data[key] = value
    for key in lists:
        data[key] = [v for v in form.getlist(key) if isinstance(v, str) and v != ""]
    for key in flags:
        data[key] = form.get(key) in ("on", "true", "1", "yes")
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        return None, in_form_order(field_errors(exc, model=model), form)


def in_form_order(errors: dict[str, str], form: FormData) -> dict[str, str]:
    """Errors in the order of their fields on the page, as GOV.UK's error summary lists them: a browser sends
    a form's fields in that order. A field it did not send (no radio chosen) stays after the one before it."""
    sent = {key: index for index, key in enumerate(dict.fromkeys(form.keys()))}
    positions: dict[str, float] = {}
    last = -1.0
    for key in errors:
        last = float(sent[key]) if key in sent else last + 0.001
        positions[key] = last
    return dict(sorted(errors.items(), key=lambda item: positions[item[0]]))


class CsrfRefused(AppError):
    status_code = 403
    title = N_("Form expired")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def verify_csrf(request: Request) -> None:
    """Every state-changing request made with the browser's cookies must carry the CSRF token.

    Requests authenticated by a bearer token carry no ambient credential and need none; nor
    do API requests without a session cookie, which then get 401 rather than a CSRF refusal.
    """
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    if request.url.path.startswith("/api/") and SESSION_COOKIE not in request.cookies:
        return
    token = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        submitted = (await request.form()).get("csrf_token")
        token = submitted if isinstance(submitted, str) else None
    if not csrf_token_valid(request.cookies.get(CSRF_COOKIE), token):
        raise CsrfRefused(
            N_("This form has expired or did not come from Mend. Reload the page and try again; nothing was saved.")
        )
