"""Pages: sign-in and sign-out, first-admin setup, access tokens, password, user administration."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData

from app.auth import invitations, service
from app.auth.dependencies import SESSION_COOKIE, ActorDep, AdminDep, OptionalActorDep, client_ip
from app.auth.models import User, UserRole
from app.auth.schemas import (
    DEFAULT_TOKEN_LIFETIME_DAYS,
    AccessTokenCreate,
    FirstAdminSetup,
    InvitationAccept,
    InvitationCreate,
    PasswordChange,
    SignIn,
    UserUpdate,
)
from app.config import get_settings
from app.db import RecordId, SessionDep
from app.errors import InvalidInput
from app.i18n import N_, current_language
from app.i18n import gettext as _
from app.programs.schemas import timezone_choices
from app.web import form_data, redirect, render, translated, validate_form, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
FormDep = Annotated[FormData, Depends(form_data)]
ROLE_LABELS = {UserRole.admin: N_("Admin"), UserRole.facilitator: N_("Facilitator"), UserRole.staff: N_("Staff")}


def _role_options() -> list[tuple[str, str]]:
    return [(role.value, _(label)) for role, label in ROLE_LABELS.items()]


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=get_settings().public_base_url.startswith("https://") or request.url.scheme == "https",
        max_age=get_settings().session_absolute_hours * 3600,
        path="/",
    )


def _safe_next(target: str | None) -> str:
    """A local address asked for, or "" (then the person lands on their role's home after sign-in)."""
    return target if target and target.startswith("/") and not target.startswith("//") else ""


def home_for(role: UserRole | str) -> str:
    """Where a person lands: program staff on Monitoring, which is their work; everyone else on the cases."""
    return "/monitoring" if role == UserRole.staff else "/cases"


@router.get("/")
def home(actor: OptionalActorDep) -> Response:
    from fastapi.responses import RedirectResponse

    return RedirectResponse(home_for(actor.role) if actor and actor.role else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None, expired: bool = False) -> Response:
    """The sign-in form."""
    notice = _("You were signed out because the session expired. Sign in again.") if expired else None
    return render(request, "auth/login.html", {"errors": {}, "email": "", "next": _safe_next(next), "notice": notice})


@router.post("/login")
def login(request: Request, session: SessionDep, form: FormDep) -> Response:
    """Check the credentials; on success a fresh session id replaces any earlier one."""
    data, errors = validate_form(SignIn, form)
    next_url = _safe_next(form.get("next") if isinstance(form.get("next"), str) else None)  # type: ignore[arg-type]
    if data is None:
        return render(
            request,
            "auth/login.html",
            {"errors": errors, "email": form.get("email", ""), "next": next_url},
            status_code=422,
        )
    result = service.sign_in(
        session,
        email=data.email,
        password=data.password,
        ip_address=client_ip(request),
        request_id=request.state.request_id,
    )
    if result.error:
        return render(
            request,
            "auth/login.html",
            {"errors": {}, "form_error": _(result.error), "email": data.email, "next": next_url},
            status_code=401,
        )
    response = redirect(request, next_url or home_for(result.user.role))  # type: ignore[union-attr]
    _set_session_cookie(request, response, result.session_token)  # type: ignore[arg-type]
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    """Sign out: the session is revoked on the server, not only forgotten by the browser."""
    service.end_session(session, actor=actor, token=request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(request, "/login", flash=_("You are signed out."))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/session/extend")
def extend_session(actor: ActorDep, request: Request) -> JSONResponse:
    """Stay signed in: resolving the session already renewed its idle timer."""
    return JSONResponse({"seconds_left": request.state.session_seconds_left})


@router.get("/setup/{token}")
def setup_page(token: str, request: Request, session: SessionDep) -> Response:
    """The first administrator's account form, reachable once through the printed link."""
    if not service.setup_token_usable(session, token=token):
        return render(
            request,
            "errors/error.html",
            {
                "title": "This setup link no longer works",
                "message": "It has expired or has already been used. Ask whoever runs Mend for a new link, or sign in.",
            },
            status_code=404,
        )
    return render(
        request, "auth/setup.html", {"errors": {}, "values": {"timezone": "UTC"}, "zones": timezone_choices()}
    )


@router.post("/setup/{token}")
def setup(token: str, request: Request, session: SessionDep, form: FormDep) -> Response:
    data, errors = validate_form(FirstAdminSetup, form)
    if data is None:
        return render(
            request,
            "auth/setup.html",
            {"errors": errors, "values": dict(form), "zones": timezone_choices()},
            status_code=422,
        )
    user, token_value = service.complete_setup(
        session, token=token, data=data, request_id=request.state.request_id, ip_address=client_ip(request)
    )
    response = redirect(
        request, "/admin/users", flash=_("Welcome, %(name)s. Your program is ready.") % {"name": user.full_name}
    )
    _set_session_cookie(request, response, token_value)
    return response


@router.get("/account/tokens")
def tokens_page(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    """Personal access tokens for the JSON API."""
    tokens = service.list_access_tokens(session, actor=actor)
    context = {"tokens": tokens, "errors": {}, "created": None, "lifetime": DEFAULT_TOKEN_LIFETIME_DAYS}
    return render(request, "auth/tokens.html", context)


@router.post("/account/tokens")
def create_token(request: Request, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    data, errors = validate_form(AccessTokenCreate, form)
    created = None
    if data is not None:
        created = service.issue_access_token(session, actor=actor, data=data)[1]
    tokens = service.list_access_tokens(session, actor=actor)
    return render(
        request,
        "auth/tokens.html",
        {
            "tokens": tokens,
            "errors": errors,
            "created": created,
            "name": form.get("name", "") if errors else "",
            "lifetime": form.get("expires_in_days") or DEFAULT_TOKEN_LIFETIME_DAYS,
        },
        status_code=422 if errors else 200,
    )


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: RecordId, request: Request, session: SessionDep, actor: ActorDep) -> Response:
    service.revoke_access_token(session, actor=actor, token_id=token_id)
    return redirect(request, "/account/tokens", flash=_("The token is revoked and no longer works."))


@router.get("/account/password")
def password_page(request: Request, actor: ActorDep) -> Response:
    return render(request, "auth/password.html", {"errors": {}})


@router.post("/account/password")
def change_password(request: Request, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    user: User = request.state.user
    data, errors = validate_form(PasswordChange, form)
    if data is not None:
        try:
            service.change_password(session, actor=actor, user=user, data=data)
        except InvalidInput as exc:
            errors = translated(exc.field_errors)
    if errors:
        return render(request, "auth/password.html", {"errors": errors}, status_code=422)
    response = redirect(request, "/login", flash=_("Your password is changed. Sign in with the new one."))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/admin/users")
def users_page(request: Request, session: SessionDep, actor: AdminDep) -> Response:
    """The program's accounts, and the invitations still waiting for an answer."""
    users = service.list_program_users(session, program_id=actor.program_id)  # type: ignore[arg-type]
    waiting = invitations.pending_invitations(session, program_id=actor.program_id)  # type: ignore[arg-type]
    return render(request, "auth/users.html", {"users": users, "invitations": waiting, "role_labels": ROLE_LABELS})


def _invite_form(
    request: Request, *, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Response:
    languages = [("en", _("English")), ("es", _("Spanish"))]
    context = {
        "errors": errors,
        "values": values,
        "roles": _role_options(),
        "languages": languages,
        "days": get_settings().invitation_days,
    }
    return render(request, "auth/user_new.html", context, status_code=status_code)


@router.get("/admin/users/new")
def new_user_page(request: Request, actor: AdminDep) -> Response:
    """Invite someone: name, address, role and the language of the invitation e-mail."""
    return _invite_form(request, values={"role": "facilitator", "language": current_language()}, errors={})


@router.post("/admin/invitations")
def invite(request: Request, session: SessionDep, actor: AdminDep, form: FormDep) -> Response:
    data, errors = validate_form(InvitationCreate, form)
    if data is not None:
        try:
            invitation = invitations.invite(session, actor=actor, data=data)
            return redirect(
                request,
                "/admin/users",
                flash=_("Invitation sent to %(email)s. The link in it works for %(days)s days.")
                % {"email": invitation.email, "days": get_settings().invitation_days},
            )
        except InvalidInput as exc:
            errors = translated(exc.field_errors)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    return _invite_form(request, values=values, errors=errors, status_code=422)


@router.post("/admin/invitations/{invitation_id}/cancel")
def cancel_invitation(invitation_id: RecordId, request: Request, session: SessionDep, actor: AdminDep) -> Response:
    invitation = invitations.cancel(session, actor=actor, invitation_id=invitation_id)
    return redirect(
        request,
        "/admin/users",
        flash=_("The invitation to %(email)s is cancelled. Its link no longer works.") % {"email": invitation.email},
    )


def _invitation_gone(request: Request) -> Response:
    return render(
        request,
        "errors/error.html",
        {
            "title": _(invitations.LINK_NO_LONGER_WORKS),
            "message": _(
                "It has expired, was cancelled or has already been used. "
                "Ask the person who invited you to send a new invitation, or sign in."
            ),
        },
        status_code=404,
    )


@router.get("/invite/{token}")
def invitation_page(token: str, request: Request, session: SessionDep) -> Response:
    """The invited person chooses their password."""
    invitation = invitations.usable_invitation(session, token=token)
    if invitation is None:
        return _invitation_gone(request)
    return render(
        request,
        "auth/invitation.html",
        {"invitation": invitation, "errors": {}, "program": service.get_program(session, invitation.program_id).name},
    )


@router.post("/invite/{token}")
def accept_invitation(token: str, request: Request, session: SessionDep, form: FormDep) -> Response:
    invitation = invitations.usable_invitation(session, token=token)
    if invitation is None:
        return _invitation_gone(request)
    data, errors = validate_form(InvitationAccept, form)
    if data is not None:
        try:
            user, session_token = invitations.accept(
                session, token=token, data=data, request_id=request.state.request_id, ip_address=client_ip(request)
            )
        except InvalidInput as exc:
            errors = translated(exc.field_errors)
        else:
            response = redirect(
                request,
                home_for(user.role),
                flash=_("Welcome, %(name)s. Your account is ready.") % {"name": user.full_name},
            )
            _set_session_cookie(request, response, session_token)
            return response
    context = {
        "invitation": invitation,
        "errors": errors,
        "program": service.get_program(session, invitation.program_id).name,
    }
    return render(request, "auth/invitation.html", context, status_code=422)


@router.get("/admin/users/{user_id}")
def edit_user_page(user_id: RecordId, request: Request, session: SessionDep, actor: AdminDep) -> Response:
    user = service.get_program_user(session, actor=actor, user_id=user_id)
    values = {"full_name": user.full_name, "role": user.role, "is_active": user.is_active}
    context = {"user": user, "values": values, "errors": {}, "roles": _role_options()}
    return render(request, "auth/user_edit.html", context)


@router.post("/admin/users/{user_id}")
def update_user(user_id: RecordId, request: Request, session: SessionDep, actor: AdminDep, form: FormDep) -> Response:
    user = service.get_program_user(session, actor=actor, user_id=user_id)
    data, errors = validate_form(UserUpdate, form, flags=("is_active",), required=("full_name",))
    if data is None:
        values = dict(form) | {"is_active": form.get("is_active") in ("true", "on")}
        context = {"user": user, "values": values, "errors": errors, "roles": _role_options()}
        return render(request, "auth/user_edit.html", context, status_code=422)
    service.update_user(session, actor=actor, user=user, data=data)
    return redirect(request, "/admin/users", flash=_("Saved the changes to %(name)s.") % {"name": user.full_name})
