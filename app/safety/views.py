"""Pages: safety assessments and concerns, the safety plan, consent, contact preferences, information sheets.

Every page loads its case through DetailCase: program staff get 403, facilitators not assigned
to the case and other programs 404. Forms validate into the schemas the JSON API uses.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from app.auth.dependencies import ActorDep
from app.conferences.dependencies import CaseParticipant, DetailCase
from app.conferences.models import Case, Participant
from app.conferences.schemas import LANGUAGES, PARTICIPANT_ROLE_LABELS
from app.db import SessionDep
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import Choices, Labels
from app.i18n import gettext as _
from app.safety import consent, queries, service
from app.safety.dependencies import CaseConcern
from app.safety.models import ConsentMethod, ConsentScope, ContactChannel
from app.safety.rules import (
    CRITICAL_FROM,
    FACTORS_BY_KEY,
    HIGH_FROM,
    MEDIUM_FROM,
    RISK_FACTORS,
)
from app.safety.schemas import (
    CONSENT_METHOD_LABELS,
    CONSENT_STATE_LABELS,
    CONTACT_CHANNEL_LABELS,
    RISK_LEVEL_LABELS,
    SESSION_MODE_LABELS,
    SHEET_LANGUAGE,
    SHEET_VERSION,
    AssessmentCreate,
    ConcernCreate,
    ConcernReview,
    ConsentCreate,
    ConsentWithdraw,
    ContactPreferenceUpdate,
    RiskFactorsInput,
    SafetyPlanCreate,
)
from app.safety.sheets import CURRENT_VERSION, available_languages, load_sheet, sheet_for
from app.web import form_data, optional_id, redirect, render, translated, validate_form, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
FormDep = Annotated[FormData, Depends(form_data)]

PLAN_FLAGS = ("staggered_arrival", "separate_waiting_rooms", "security_present", "no_contact_order")
CONTACT_FLAGS = ("voicemail_ok", "text_ok", "discreet")
LABELS: dict[str, Any] = {
    "risk_factors": RISK_FACTORS,
    "bands": {"medium": MEDIUM_FROM, "high": HIGH_FROM, "critical": CRITICAL_FROM},
    "factor_by_key": FACTORS_BY_KEY,
    "level_label": Labels(RISK_LEVEL_LABELS),
    "mode_label": Labels(SESSION_MODE_LABELS),
    "modes": Choices((k.value, v) for k, v in SESSION_MODE_LABELS.items()),
    "channel_label": Labels(CONTACT_CHANNEL_LABELS),
    "channels": Choices((k.value, v) for k, v in CONTACT_CHANNEL_LABELS.items()),
    "method_label": Labels(CONSENT_METHOD_LABELS),
    "facilitator_methods": Choices(
        (m.value, CONSENT_METHOD_LABELS[m]) for m in (ConsentMethod.in_person, ConsentMethod.written)
    ),
    "scope_label": Labels(consent.SCOPE_LABELS),
    "scopes": Choices((k.value, v) for k, v in consent.SCOPE_LABELS.items()),
    "state_label": Labels(CONSENT_STATE_LABELS),
    "role_label": Labels(PARTICIPANT_ROLE_LABELS),
    "language_label": Labels(LANGUAGES),
}


# --- safety: assessments and concerns ----------------------------------------------------------


def _safety_page(
    request: Request,
    session: SessionDep,
    case: Case,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    status_code: int = 200,
) -> Response:
    values = values or {}
    context = LABELS | {
        "case": case,
        "overview": queries.safety_overview(session, case=case),
        "values": values,
        "errors": errors or {},
        "preview": queries.risk_preview(session, case=case, factors=values.get("factors", [])),
    }
    return render(request, "safety/safety.html", context, status_code=status_code)


@router.get("/cases/{case_id}/safety")
def safety_page(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep) -> Response:
    """The survivor's latest safety assessment and its history, a new assessment, concerns, and the plan."""
    service.record_safety_read(session, actor=actor, case=case, what="safety")
    return _safety_page(request, session, case)


@router.post("/cases/{case_id}/safety/preview")
def risk_preview(request: Request, case: DetailCase, session: SessionDep, form: FormDep) -> Response:
    """The level the ticked factors give, as a fragment the assessment form swaps in while boxes are ticked."""
    data, errors = validate_form(RiskFactorsInput, form, lists=("factors",))
    preview = queries.risk_preview(
        session, case=case, factors=data.factors if data else [], error=errors.get("factors")
    )
    return render(request, "safety/_risk_level.html", LABELS | {"preview": preview})


@router.post("/cases/{case_id}/safety/assessments")
def assess_safety(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    """Save a new assessment; errors come back beside the fields."""
    data, errors = validate_form(AssessmentCreate, form, lists=("factors",))
    if data is not None:
        try:
            survivor = service.survivor_to_assess(session, case=case, participant_id=data.participant_id)
            found = service.assess_safety(
                session, actor=actor, case=case, participant=survivor, factors=data.factors, notes=data.notes
            )
            flash = _("Safety assessment saved: the risk level is %(level)s.") % {
                "level": _(RISK_LEVEL_LABELS[found.level]).lower()
            }
            return redirect(request, f"/cases/{case.id}/safety", flash=flash)
        except InvalidInput as exc:
            errors = translated(exc.field_errors)
    values = dict(form) | {"factors": form.getlist("factors")}
    return _safety_page(request, session, case, values=values, errors=errors, status_code=422)


@router.post("/cases/{case_id}/safety/concerns")
def raise_concern(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    """Record a safety concern; an urgent one pauses the case."""
    data, errors = validate_form(ConcernCreate, form, flags=("urgent",))
    if data is None:
        return _safety_page(request, session, case, values=dict(form), errors=errors, status_code=422)
    found = service.raise_concern(session, actor=actor, case=case, description=data.description, urgent=data.urgent)
    flash = (
        _("Urgent concern recorded: the case is paused until it is reviewed.")
        if found.urgent
        else _("Concern recorded.")
    )
    return redirect(request, f"/cases/{case.id}/safety", flash=flash)


@router.post("/cases/{case_id}/safety/concerns/{concern_id}/review")
def review_concern(
    request: Request, case: DetailCase, concern: CaseConcern, session: SessionDep, actor: ActorDep, form: FormDep
) -> Response:
    """Mark a concern reviewed, with a note; this releases the pause of an urgent one."""
    data, errors = validate_form(ConcernReview, form)
    if data is None:
        field = f"review_note_{concern.id}"
        values = {field: form.get("note", "")}
        return _safety_page(request, session, case, values=values, errors={field: errors["note"]}, status_code=422)
    service.review_concern(session, actor=actor, concern=concern, note=data.note)
    return redirect(request, f"/cases/{case.id}/safety", flash=_("Concern reviewed."))


# --- safety plan -------------------------------------------------------------------------------


def _plan_page(
    request: Request, session: SessionDep, case: Case, *, values: dict, errors: dict, status_code: int = 200
) -> Response:
    status = queries.plan_status(session, case=case)
    names = queries.user_names(session, {v.plan.created_by_id for v in status.versions})
    context = LABELS | {"case": case, "status": status, "names": names, "values": values, "errors": errors}
    return render(request, "safety/plan.html", context, status_code=status_code)


@router.get("/cases/{case_id}/safety/plan")
def plan_page(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep) -> Response:
    """The safety plan form, filled in from the latest version."""
    service.record_safety_read(session, actor=actor, case=case, what="safety.plan")
    latest = queries.plan_status(session, case=case).latest
    plan = latest.plan if latest else SafetyPlanCreate()
    values = {name: getattr(plan, name) for name in SafetyPlanCreate.model_fields}
    return _plan_page(request, session, case, values=values, errors={})


@router.post("/cases/{case_id}/safety/plan")
def save_plan(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    """Save the safety plan as a new version."""
    data, errors = validate_form(SafetyPlanCreate, form, flags=(*PLAN_FLAGS, "address_confidential"))
    if data is None:
        values = dict(form) | {flag: form.get(flag) == "true" for flag in (*PLAN_FLAGS, "address_confidential")}
        return _plan_page(request, session, case, values=values, errors=errors, status_code=422)
    service.save_safety_plan(session, actor=actor, case=case, data=data)
    return redirect(request, f"/cases/{case.id}/safety/plan", flash=_("Safety plan saved as a new version."))


# --- consent -----------------------------------------------------------------------------------


def _consent_page(
    request: Request,
    session: SessionDep,
    case: Case,
    *,
    values: dict,
    errors: dict,
    status_code: int = 200,
) -> Response:
    overview = queries.consent_overview(session, case=case)
    context = LABELS | {
        "case": case,
        "overview": overview,
        "names": queries.consent_names(session, overview),
        "pauses": queries.case_pauses(session, case=case),
        "participant_options": [(e.participant.id, e.participant.display_name) for e in overview],
        "sheet_versions": [(CURRENT_VERSION, CURRENT_VERSION)],
        "sheet_languages": [(code, LANGUAGES.get(code, code)) for code in available_languages()],
        "values": values,
        "errors": errors,
    }
    return render(request, "safety/consent.html", context, status_code=status_code)


@router.get("/cases/{case_id}/consent")
def consent_page(
    request: Request,
    case: DetailCase,
    session: SessionDep,
    actor: ActorDep,
    participant: str = Query(default="", max_length=12),
    scope: str = Query(default="", max_length=30),
) -> Response:
    """Each participant's consent to every scope, its history, and the form to record consent."""
    service.record_safety_read(session, actor=actor, case=case, what="consent")
    chosen = session.get(Participant, pid) if (pid := optional_id(participant)) else None
    if chosen is not None and chosen.case_id != case.id:
        chosen = None
    language = chosen.preferred_language.split("-")[0] if chosen else "en"
    values = {
        "participant_id": chosen.id if chosen else None,
        "scope": scope if scope in ConsentScope.__members__ else None,
        "sheet_version": CURRENT_VERSION,
        "sheet_language": language if language in available_languages() else "en",
        "method": ConsentMethod.in_person.value,
    }
    return _consent_page(request, session, case, values=values, errors={})


@router.post("/cases/{case_id}/consent")
def record_consent(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    """Record one person's consent to one scope, from the form on the consent page."""
    data, errors = validate_form(ConsentCreate, form)
    participant = session.get(Participant, pid) if (pid := optional_id(str(form.get("participant_id", "")))) else None
    if participant is None or participant.case_id != case.id:
        errors = {"participant_id": _("Choose the person who gives their consent.")} | errors
    elif data is not None:
        try:
            given = consent.give_consent(session, actor=actor, participant=participant, **data.model_dump())
            flash = _("Consent recorded: %(name)s, %(scope)s.") % {
                "name": participant.display_name,
                "scope": _(consent.SCOPE_LABELS[given.scope]).lower(),
            }
            return redirect(request, f"/cases/{case.id}/consent", flash=flash)
        except (InvalidInput, Conflict) as exc:
            errors = translated(exc.field_errors or {"scope": exc.message})
    return _consent_page(request, session, case, values=dict(form), errors=errors, status_code=422)


@router.post("/cases/{case_id}/participants/{participant_id}/consents/{scope}/withdraw")
def withdraw_consent(
    request: Request,
    scope: ConsentScope,
    case: DetailCase,
    participant: CaseParticipant,
    session: SessionDep,
    actor: ActorDep,
    form: FormDep,
) -> Response:
    """Withdraw one consent, with an optional reason; nothing is deleted."""
    data, errors = validate_form(ConsentWithdraw, form)
    if data is None:
        field = f"reason_{participant.id}_{scope.value}"
        values = {field: form.get("reason", "")}
        return _consent_page(request, session, case, values=values, errors={field: errors["reason"]}, status_code=422)
    consent.withdraw_consent(session, actor=actor, participant=participant, scope=scope, reason=data.reason)
    flash = _("%(name)s withdrew consent: %(scope)s. Nothing was deleted.") % {
        "name": participant.display_name,
        "scope": _(consent.SCOPE_LABELS[scope]).lower(),
    }
    return redirect(request, f"/cases/{case.id}/consent", flash=flash)


@router.get("/cases/{case_id}/information-sheet")
def information_sheet_page(
    request: Request,
    case: DetailCase,
    lang: str = Query(default="en", max_length=16),
    version: str = Query(default=CURRENT_VERSION, max_length=20),
) -> Response:
    """The information sheet in the person's language, for a facilitator to show them before they consent."""
    if not (SHEET_VERSION.match(version) and available_languages(version)):
        raise NotFound("There is no information sheet of this version.")
    lang = lang if SHEET_LANGUAGE.match(lang) else "en"
    sheet = sheet_for(lang, version)
    context = LABELS | {
        "case": case,
        "sheet": sheet,
        "asked": lang,
        "translated": load_sheet(version, lang.split("-")[0]) is not None,
        "languages": [(code, LANGUAGES.get(code, code)) for code in available_languages(version)],
    }
    return render(request, "safety/information_sheet.html", context)


# --- contact preferences -----------------------------------------------------------------------


def _contact_page(
    request: Request,
    case: Case,
    participant: Participant,
    *,
    values: dict,
    errors: dict,
    saved: Any = None,
    status_code: int = 200,
) -> Response:
    context = LABELS | {
        "case": case,
        "participant": participant,
        "values": values,
        "errors": errors,
        "saved": saved,
    }
    return render(request, "safety/contact.html", context, status_code=status_code)


@router.get("/cases/{case_id}/participants/{participant_id}/contact")
def contact_page(
    request: Request, case: DetailCase, participant: CaseParticipant, session: SessionDep, actor: ActorDep
) -> Response:
    """The person's safe-contact preferences: how, when and whether the program may contact them."""
    service.record_safety_read(session, actor=actor, case=case, what="contact_preference")
    saved = queries.contact_preference(session, participant=participant)
    shown = saved or ContactPreferenceUpdate(channel=ContactChannel.none)
    values = {name: getattr(shown, name) for name in ContactPreferenceUpdate.model_fields}
    return _contact_page(request, case, participant, values=values, errors={}, saved=saved)


@router.post("/cases/{case_id}/participants/{participant_id}/contact")
def save_contact(
    request: Request,
    case: DetailCase,
    participant: CaseParticipant,
    session: SessionDep,
    actor: ActorDep,
    form: FormDep,
) -> Response:
    """Save the person's safe-contact preferences."""
    data, errors = validate_form(ContactPreferenceUpdate, form, flags=CONTACT_FLAGS)
    if data is None:
        values = dict(form) | {flag: form.get(flag) == "true" for flag in CONTACT_FLAGS}
        return _contact_page(request, case, participant, values=values, errors=errors, status_code=422)
    service.save_contact_preference(session, actor=actor, participant=participant, data=data)
    flash = _("Contact preferences of %(name)s saved.") % {"name": participant.display_name}
    return redirect(request, f"/cases/{case.id}/participants/{participant.id}/contact", flash=flash)
