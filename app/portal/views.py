"""Pages: the facilitator's portal links for a participant, and the portal itself (survivors, responsible parties).

Portal pages use their own layout (templates/portal/base.html: no staff navigation, a quick exit
first), speak the person's language where a translation exists, and answer every refusal with a
plain portal page, never the staff error page or the staff sign-in form.
"""

from collections.abc import Callable, Coroutine
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from app.auth.dependencies import ActorDep, client_ip
from app.conferences.dependencies import CaseParticipant, DetailCase
from app.conferences.models import Case, Participant
from app.conferences.schemas import LANGUAGES as LANGUAGE_NAMES
from app.conferences.schemas import PARTICIPANT_ROLE_LABELS
from app.config import get_settings
from app.db import RecordId, SessionDep
from app.errors import AppError, Conflict, NotFound
from app.i18n import N_, Labels, current_language, negotiate, written
from app.i18n import gettext as _
from app.portal import queries, service
from app.portal.dependencies import (
    DEFAULT_QUICK_EXIT_URL,
    PORTAL_COOKIE,
    OptionalPortalDep,
    Portal,
    PortalDep,
    PortalSignInRequired,
    current_portal,
)
from app.portal.link_delivery import link_delivery
from app.portal.link_delivery import send_portal_link as send_link
from app.portal.rules import PORTAL_STEPS, LinkState
from app.portal.schemas import PortalConsentGive, PortalConsentWithdraw
from app.portal.text import (
    ALREADY_YES,
    LANGUAGES,
    NO_TRANSLATION_NOTE,
    NOT_UNDERSTOOD,
    NOTHING_TO_STOP,
    PAGE_EXPIRED,
    PAGE_NOT_FOUND,
    SAID_YES,
    SCOPE_EXPLANATIONS,
    SCOPE_TITLES,
    guidance_words,
    long_date,
    sheet_blocks,
    translator,
)
from app.programs.models import Program
from app.safety.models import ConsentScope
from app.safety.rules import PARTICIPATION_SCOPES
from app.safety.sheets import sheet_for
from app.web import CsrfRefused, form_data, redirect, render, validate_form, verify_csrf

FormDep = Annotated[FormData, Depends(form_data)]
Token = Annotated[str, Path(max_length=200)]
SIGNED_OUT = "/portal/signed-out"
LINK_STATE_LABELS = Labels(
    {
        LinkState.waiting: N_("Not opened yet"),
        LinkState.in_use: N_("Opened; portal session open"),
        LinkState.used: N_("Used"),
        LinkState.expired: N_("Expired unused"),
        LinkState.revoked: N_("Revoked"),
    }
)


class PortalRoute(APIRoute):
    """Portal pages: no session sends the person to a friendly page; a refusal is a plain portal page.

    What a refused request wrote is rolled back first, as the one-request-one-transaction rule wants.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def portal_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except PortalSignInRequired:
                return redirect(request, SIGNED_OUT)
            except (AppError, RequestValidationError) as exc:
                db = getattr(request.state, "portal_db", None)
                if db is not None:
                    await run_in_threadpool(db.rollback)
                return _error_page(request, exc)

        return portal_handler


router = APIRouter(include_in_schema=False)
staff_pages = APIRouter(dependencies=[Depends(verify_csrf)])
# The session (or the link) is resolved before the CSRF check, so even that refusal speaks the person's language.
portal_pages = APIRouter(
    route_class=PortalRoute, dependencies=[Depends(current_portal, scope="function"), Depends(verify_csrf)]
)
# The quick exit takes no CSRF token: a refused token must never keep a session open, and a
# forged request can do no more than end one.
exit_pages = APIRouter(route_class=PortalRoute)


# --- facilitators: issuing and revoking links -------------------------------------------------


def _links_page(
    request: Request, session: SessionDep, case: Case, participant: Participant, issued: service.IssuedLink | None
) -> Response:
    program = session.get(Program, case.program_id)
    eligible = participant.role in service.PORTAL_ROLES
    return render(
        request,
        "portal/links.html",
        {
            "case": case,
            "participant": participant,
            "rows": queries.list_portal_links(session, participant=participant),
            "issued": issued,
            "eligible": eligible,
            "delivery": link_delivery(session, participant=participant) if eligible else None,
            "link_hours": program.portal_link_hours if program else 72,
            "state_label": LINK_STATE_LABELS,
            "role_label": Labels(PARTICIPANT_ROLE_LABELS),
            "language_label": Labels(LANGUAGE_NAMES),
        },
    )


@staff_pages.get("/cases/{case_id}/participants/{participant_id}/portal")
def portal_links_page(
    request: Request, case: DetailCase, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> Response:
    """A participant's portal sign-in links: when issued and by whom, expiry, use; issue or revoke one."""
    return _links_page(request, session, case, participant, None)


@staff_pages.post("/cases/{case_id}/participants/{participant_id}/portal-links")
def issue_portal_link(
    request: Request, case: DetailCase, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> Response:
    """Issue a link and show it once, like an access token: Mend keeps only its digest."""
    issued = service.issue_portal_link(session, actor=actor, participant=participant)
    return _links_page(request, session, case, participant, issued)


@staff_pages.post("/cases/{case_id}/participants/{participant_id}/portal-links/send")
def send_portal_link(
    request: Request, case: DetailCase, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> Response:
    """Send a new link to the person through the outbox; nobody at Mend sees it. Refused without a safe channel."""
    sent = send_link(session, actor=actor, participant=participant)
    when = written(
        sent.delivery.sends_at,
        "%d %b %Y, %H:%M",
        language=current_language(),
        timezone=getattr(request.state, "timezone", "UTC"),
    )
    message = (
        _("A new link will go to %(name)s by email on %(time)s, when their quiet hours end.")
        if sent.delivery.waits_for_quiet_hours
        else _("A new link is on its way to %(name)s by email.")
    )
    return redirect(
        request, _links_url(case, participant), flash=message % {"name": participant.display_name, "time": when}
    )


@staff_pages.post("/cases/{case_id}/participants/{participant_id}/portal-links/{link_id}/revoke")
def revoke_portal_link(
    link_id: RecordId,
    request: Request,
    case: DetailCase,
    participant: CaseParticipant,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """Revoke a link; a used one's portal session ends too."""
    link = service.revoke_portal_link(session, actor=actor, participant=participant, link_id=link_id)
    message = (
        _("The link is revoked, and the portal session it opened has ended.")
        if link.used_at
        else _("The link is revoked. It will not open the portal.")
    )
    return redirect(request, _links_url(case, participant), flash=message)


def _links_url(case: Case, participant: Participant) -> str:
    return f"/cases/{case.id}/participants/{participant.id}/portal"


# --- the portal ---------------------------------------------------------------------------


def _page(
    request: Request,
    template: str,
    *,
    portal: Portal | None = None,
    language: str | None = None,
    exit_url: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A portal page in the person's language, with the quick exit pointing at the program's neutral site.

    Before sign-in, the link being opened (even a used or expired one) says whose language to speak;
    with no link and no session, the browser's Accept-Language does.
    """
    preview: queries.LinkPreview | None = getattr(request.state, "link_preview", None)
    if portal is not None:
        language, exit_url = portal.language, portal.program.quick_exit_url
    elif preview is not None and preview.language is not None:
        language, exit_url = preview.language, preview.exit_url
    elif language not in LANGUAGES:
        language = negotiate(request.headers.get("accept-language"))
    timezone = portal.program.timezone if portal is not None else "UTC"
    return render(
        request,
        template,
        {
            "lang": language,
            "date": partial(long_date, language=language, timezone=timezone),
            "portal": portal,
            "exit_url": neutral_site(exit_url),
            "scope_title": SCOPE_TITLES,
        }
        | context,
        status_code=status_code,
    )


def neutral_site(url: str | None) -> str:
    """The quick exit's destination: the program's web address, or the default if it is not one."""
    return url if url and url.startswith(("https://", "http://")) else DEFAULT_QUICK_EXIT_URL


def _error_page(request: Request, exc: Exception) -> Response:
    portal: Portal | None = getattr(request.state, "portal", None)
    if isinstance(exc, CsrfRefused):
        status, message = 403, PAGE_EXPIRED
    elif isinstance(exc, NotFound):
        status, message = 404, PAGE_NOT_FOUND
    else:
        status, message = (exc.status_code if isinstance(exc, AppError) else 422), NOT_UNDERSTOOD
    return _page(request, "portal/error.html", portal=portal, status_code=status, message=message)


def _flash(portal: Portal, text: str) -> str:
    return translator(portal.language)(text)


def _link_preview(token: Token, request: Request, session: SessionDep) -> queries.LinkPreview:
    preview = queries.preview_link(session, token=token)
    request.state.link_preview = preview
    request.state.portal_db = session
    return preview


PreviewDep = Annotated[queries.LinkPreview, Depends(_link_preview, scope="function")]
entry_pages = APIRouter(
    route_class=PortalRoute, dependencies=[Depends(_link_preview, scope="function"), Depends(verify_csrf)]
)


@entry_pages.get("/portal/enter/{token}")
def enter_page(token: Token, request: Request, preview: PreviewDep) -> Response:
    """The page a sign-in link opens: one button. A GET (or a link-preview bot) does not use the link."""
    if not preview.usable:
        return _page(request, "portal/neutral.html", status_code=410)
    return _page(request, "portal/enter.html", token=token)


@entry_pages.post("/portal/enter/{token}")
def enter(token: Token, request: Request, session: SessionDep, preview: PreviewDep) -> Response:
    """Use the link: it is marked used, and a portal session for its one participant begins."""
    entry = service.open_portal_link(
        session,
        token=token,
        request_id=request.state.request_id,
        ip_address=client_ip(request),
        replacing=request.cookies.get(PORTAL_COOKIE),
    )
    if entry.session_token is None:
        return _page(request, "portal/neutral.html", status_code=410)
    response = redirect(request, "/portal")
    response.set_cookie(
        PORTAL_COOKIE,
        entry.session_token,
        httponly=True,
        samesite="lax",
        secure=get_settings().public_base_url.startswith("https://") or request.url.scheme == "https",
        path="/",
    )  # no max_age: the cookie goes when the browser closes; the server ends the session after 30 idle minutes
    return response


@portal_pages.get("/portal")
def home(request: Request, session: SessionDep, portal: PortalDep) -> Response:
    """Home: what this process is, where the person is in it, and what happens next, in plain words."""
    guidance = queries.own_guidance(session, participant=portal.participant)
    words = guidance_words(guidance, language=portal.language, timezone=portal.program.timezone)
    wanted = portal.participant.preferred_language.split("-")[0].lower()
    note = NO_TRANSLATION_NOTE if wanted != portal.language else None
    return _page(request, "portal/home.html", portal=portal, guidance=words, steps=PORTAL_STEPS, note=note)


@portal_pages.get("/portal/information")
def information(request: Request, session: SessionDep, portal: PortalDep) -> Response:
    """The information sheet, in the person's language."""
    sheet = service.record_information_read(session, actor=portal.actor, participant=portal.participant)
    return _page(request, "portal/information.html", portal=portal, sheet=sheet, blocks=sheet_blocks(sheet))


@portal_pages.get("/portal/consent")
def choices(request: Request, session: SessionDep, portal: PortalDep) -> Response:
    """Your choices: each consent scope, its state in plain words, and a link to say yes or to stop."""
    rows = queries.own_consents(session, participant=portal.participant)
    return _page(request, "portal/consent.html", portal=portal, rows=rows, explanation=SCOPE_EXPLANATIONS)


@portal_pages.get("/portal/consent/{scope}")
def confirm_consent(scope: ConsentScope, request: Request, session: SessionDep, portal: PortalDep) -> Response:
    """The step before saying yes: what it means, in plain words, and how to take it back."""
    if queries.own_consent(session, participant=portal.participant, scope=scope).state == "active":
        return redirect(request, "/portal/consent", flash=_flash(portal, ALREADY_YES))
    sheet = sheet_for(portal.participant.preferred_language)
    return _page(
        request,
        "portal/consent_confirm.html",
        portal=portal,
        scope=scope,
        sheet=sheet,
        explanation=SCOPE_EXPLANATIONS[scope],
    )


@portal_pages.post("/portal/consent/{scope}")
def give(scope: ConsentScope, request: Request, session: SessionDep, portal: PortalDep, form: FormDep) -> Response:
    """Say yes to one scope, from its confirmation page only; recorded as given in the portal, with the sheet shown.

    A post that did not come through that page (one tap on an old page, a double tap) records nothing
    and asks first.
    """
    if form.get("confirmed") != "yes":
        return redirect(request, f"/portal/consent/{scope.value}")
    data, errors = validate_form(PortalConsentGive, form)
    if data is None:
        raise RequestValidationError(list(errors.items()))
    try:
        service.give_portal_consent(session, actor=portal.actor, participant=portal.participant, scope=scope, data=data)
    except Conflict:
        return redirect(request, "/portal/consent", flash=_flash(portal, ALREADY_YES))
    return redirect(request, "/portal/consent", flash=_flash(portal, SAID_YES))


@portal_pages.get("/portal/consent/{scope}/withdraw")
def confirm_withdrawal(scope: ConsentScope, request: Request, session: SessionDep, portal: PortalDep) -> Response:
    """The step before stopping: it is OK to stop, there is no penalty, and the facilitator will be told."""
    row = queries.own_consent(session, participant=portal.participant, scope=scope)
    if row.state != "active":
        return redirect(request, "/portal/consent", flash=_flash(portal, NOTHING_TO_STOP))
    return _withdraw_page(request, session, portal, scope, errors={}, values={})


def _withdraw_page(
    request: Request,
    session: SessionDep,
    portal: Portal,
    scope: ConsentScope,
    *,
    errors: dict,
    values: dict,
    status_code: int = 200,
) -> Response:
    return _page(
        request,
        "portal/withdraw.html",
        portal=portal,
        scope=scope,
        pauses=scope in PARTICIPATION_SCOPES,
        effects=queries.own_withdrawal_effects(session, participant=portal.participant, scope=scope),
        errors=errors,
        values=values,
        status_code=status_code,
    )


@portal_pages.post("/portal/consent/{scope}/withdraw")
def withdraw(scope: ConsentScope, request: Request, session: SessionDep, portal: PortalDep, form: FormDep) -> Response:
    """Stop one scope. Stopping participation pauses the case and tells the facilitators (G2)."""
    data, errors = validate_form(PortalConsentWithdraw, form)
    if data is None:
        return _withdraw_page(request, session, portal, scope, errors=errors, values=dict(form), status_code=422)
    try:
        service.withdraw_portal_consent(
            session, actor=portal.actor, participant=portal.participant, scope=scope, data=data
        )
    except Conflict:
        return redirect(request, "/portal/consent", flash=_flash(portal, NOTHING_TO_STOP))
    return redirect(request, f"/portal/consent/{scope.value}/stopped")


@portal_pages.get("/portal/consent/{scope}/stopped")
def stopped(scope: ConsentScope, request: Request, session: SessionDep, portal: PortalDep) -> Response:
    """After stopping: what stopped and what stays in force (a signed agreement's promises stay), in plain words."""
    row = queries.own_consent(session, participant=portal.participant, scope=scope)
    if row.state != "withdrawn":
        return redirect(request, "/portal/consent")
    effects = queries.own_withdrawal_effects(session, participant=portal.participant, scope=scope)
    return _page(
        request,
        "portal/stopped.html",
        portal=portal,
        scope=scope,
        pauses=scope in PARTICIPATION_SCOPES,
        effects=effects,
    )


@portal_pages.post("/portal/sign-out")
def sign_out(request: Request, session: SessionDep, portal: PortalDep) -> Response:
    """Sign out: the portal session ends on the server, and the cookie is removed."""
    service.end_portal_session(session, actor=portal.actor, token=request.cookies.get(PORTAL_COOKIE, ""))
    response = redirect(request, f"{SIGNED_OUT}?lang={portal.language}")
    response.delete_cookie(PORTAL_COOKIE, path="/")
    return response


@portal_pages.get(SIGNED_OUT)
def signed_out(request: Request, lang: Annotated[str | None, Query(max_length=8)] = None) -> Response:
    """The page for no (or no longer) a portal session: neutral, since whoever holds the phone may not be the person.

    Signing out passes the person's language; Back after the quick exit has only the browser's to go by.
    """
    return _page(request, "portal/neutral.html", language=lang)


def _leave(request: Request, session: SessionDep, portal: Portal | None, response: Response) -> Response:
    if portal is not None:
        service.end_portal_session(
            session, actor=portal.actor, token=request.cookies.get(PORTAL_COOKIE, ""), quick_exit=True
        )
    response.delete_cookie(PORTAL_COOKIE, path="/")
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@exit_pages.get("/portal/exit")
def quick_exit(request: Request, session: SessionDep, portal: OptionalPortalDep) -> Response:
    """Quick exit without JavaScript: end the session, then go to the program's neutral site."""
    target = neutral_site(portal.program.quick_exit_url if portal is not None else None)
    return _leave(request, session, portal, RedirectResponse(target, status_code=303))


@exit_pages.post("/portal/exit")
def quick_exit_beacon(request: Request, session: SessionDep, portal: OptionalPortalDep) -> Response:
    """Quick exit with JavaScript: the page sends this beacon while it replaces itself with the neutral site."""
    return _leave(request, session, portal, Response(status_code=204))


router.include_router(staff_pages)
router.include_router(entry_pages)
router.include_router(portal_pages)
router.include_router(exit_pages)
