"""Pages: a case's agreement (the text as the parties read it, its history, reviews, signatures and the
actions its status allows), the term editor with its live preview, amendments, and the diff of two versions.

Forms validate into the API's schemas and call the same service. A refused request rolls back what it
wrote, then shows the page again with the unmet conditions, or the errors beside the fields.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session
from starlette.datastructures import FormData

from app.actor import Actor
from app.agreements import queries, service
from app.agreements.api import PdfLanguage, pdf_response
from app.agreements.commitment_rules import STATUS_LABELS as COMMITMENT_STATUS_LABELS
from app.agreements.commitment_timeline import case_timeline
from app.agreements.dependencies import (
    ReadableVersion,
    WritableVersion,
    party_of_case,
    readable_version,
    readable_versions,
)
from app.agreements.models import AgreementVersion, TermKind, VersionStatus
from app.agreements.rules import INTENT_STATEMENT, OWER_ROLES
from app.agreements.schemas import (
    APOLOGY_FORM_LABELS,
    CURRENCY_OPTIONS,
    DECISION_LABELS,
    METHOD_LABELS,
    STATUS_LABELS,
    TERM_KIND_LABELS,
    VIA_LABELS,
    DeclineCreate,
    ReviewRecord,
    SignatureCreate,
    apply_editor_action,
    parse_rows,
    preview_terms,
    rows_from_form,
    rows_from_terms,
)
from app.agreements.terms import RECORD_LANGUAGE
from app.auth.dependencies import ActorDep, client_ip
from app.conferences.dependencies import DetailCase, VisibleCase
from app.conferences.models import Case, ParticipantRole
from app.conferences.schemas import PARTICIPANT_ROLE_LABELS
from app.conferences.service import record_case_read
from app.db import SessionDep
from app.errors import AppError, Conflict, InvalidInput
from app.i18n import N_, Choices, Labels, current_language, language_name
from app.i18n import gettext as _
from app.web import form_data, optional_id, redirect, render, translated, validate_form, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
FormDep = Annotated[FormData, Depends(form_data)]
BASE = "/cases/{case_id}/agreement"
ONE = BASE + "/versions/{number}"

LABELS: dict[str, Any] = {
    "status_label": Labels(STATUS_LABELS),
    "kind_label": Labels(TERM_KIND_LABELS),
    "decision_label": Labels(DECISION_LABELS),
    "method_label": Labels(METHOD_LABELS),
    "via_label": Labels(VIA_LABELS),
    "role_label": Labels({**PARTICIPANT_ROLE_LABELS, "facilitator": N_("Facilitator")}),
    "term_kinds": Choices((k.value, v) for k, v in TERM_KIND_LABELS.items()),
    "apology_forms": Choices(APOLOGY_FORM_LABELS.items()),
    "currencies": CURRENCY_OPTIONS,
    "intent_statement": INTENT_STATEMENT,
    "commitment_status_label": Labels(COMMITMENT_STATUS_LABELS),
    "add_labels": Choices(
        [
            (TermKind.apology.value, N_("Add an apology")),
            (TermKind.restitution.value, N_("Add a payment (restitution)")),
            (TermKind.service_hours.value, N_("Add community service hours")),
            (TermKind.program_attendance.value, N_("Add program attendance")),
            (TermKind.no_contact.value, N_("Add no contact")),
            (TermKind.other.value, N_("Add another commitment")),
        ]
    ),
}


def _url(case: Case, tail: str = "") -> str:
    return f"/cases/{case.id}/agreement{tail}"


# --- the agreement page -------------------------------------------------------------------------


def _signer_choices(view: queries.VersionView | None) -> dict[str, Any]:
    """Who may sign now (those who have not), who may decline, and each signer's name by signer key."""
    if view is None:
        return {"sign_options": [], "decline_options": [], "signer_names": {}}

    def option(signer: queries.SignerRow) -> tuple[str, str]:
        if signer.participant_id is None:
            return "", _("You, as the facilitator of the case")
        role = _(PARTICIPANT_ROLE_LABELS.get(signer.role, signer.role))  # type: ignore[call-overload]
        return str(signer.participant_id), _("%(name)s (%(role)s), in person with you") % {
            "name": signer.name,
            "role": role,
        }

    return {
        "sign_options": [option(s) for s in view.signers if not s.signed],
        "decline_options": [option(s) for s in view.signers],
        "signer_names": {s.key: s.name for s in view.signers},
    }


def _agreement_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    case: Case,
    number: int | None = None,
    failed: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    refusal: AppError | None = None,
    status_code: int = 200,
) -> Response:
    versions = readable_versions(session, case=case, actor=actor)
    if number is not None:
        shown: AgreementVersion | None = readable_version(session, case=case, actor=actor, number=number)
    else:
        shown = versions[0] if versions else None
    view = queries.version_view(session, case=case, version=shown) if shown else None
    parties = queries.parties(session, case=case)
    in_force = queries.in_force(versions)
    context = (
        LABELS
        | _signer_choices(view)
        | {
            "case": case,
            "versions": versions,
            "view": view,
            "latest": versions[0] if versions else None,
            "in_force": in_force,
            "followup": case_timeline(session, actor=actor, case=case) if in_force else None,
            "can_write": not queries.reads_sealed_only(actor),
            "is_admin": actor.is_admin,
            "party_options": [(str(p.id), f"{p.display_name} ({_(PARTICIPANT_ROLE_LABELS[p.role])})") for p in parties],
            "conference_held": queries.conference_held(session, case=case),
            "failed": failed,
            "errors": errors or {},
            "values": values or {},
            "refusal": refusal,
        }
    )
    return render(request, "agreements/agreement.html", context, status_code=status_code)


@router.get(BASE)
def agreement_page(request: Request, case: VisibleCase, session: SessionDep, actor: ActorDep) -> Response:
    """The current version as the parties read it, its history, reviews, signatures and next actions."""
    record_case_read(session, actor=actor, case=case, what="agreement")
    return _agreement_page(request, session, actor, case=case)


@router.get(ONE)
def version_page(
    request: Request, case: VisibleCase, version: ReadableVersion, session: SessionDep, actor: ActorDep
) -> Response:
    """One version of the agreement, as it was saved, with what was recorded against it."""
    record_case_read(session, actor=actor, case=case, what="agreement")
    return _agreement_page(request, session, actor, case=case, number=version.number)


def _refused(
    request: Request, session: Session, actor: Actor, *, case: Case, exc: AppError, failed: str, form: FormData
) -> Response:
    """Undo what the refused request wrote, then show the page again with why."""
    session.rollback()
    values = {k: v for k, v in form.items() if k != "csrf_token"}
    return _agreement_page(
        request,
        session,
        actor,
        case=case,
        failed=failed,
        errors=translated(exc.field_errors),
        values=values,
        refusal=exc if isinstance(exc, Conflict) or not exc.field_errors else None,
        status_code=exc.status_code,
    )


def _invalid(
    request: Request, session: Session, actor: Actor, *, case: Case, errors: dict[str, str], failed: str, form: FormData
) -> Response:
    return _refused(
        request,
        session,
        actor,
        case=case,
        exc=InvalidInput("Check the form.", field_errors=errors),
        failed=failed,
        form=form,
    )


@router.post(ONE + "/send-for-review")
def send_for_review(
    request: Request, case: DetailCase, version: WritableVersion, session: SessionDep, actor: ActorDep, form: FormDep
) -> Response:
    """Send this exact version to the survivor and the responsible party."""
    try:
        service.send_for_review(session, actor=actor, case=case, version=version)
    except Conflict as exc:
        return _refused(request, session, actor, case=case, exc=exc, failed="review", form=form)
    return redirect(
        request, _url(case), flash=_("Version %(number)s is with the parties for review.") % {"number": version.number}
    )


@router.post(ONE + "/reviews")
def record_review(
    request: Request, case: DetailCase, version: WritableVersion, session: SessionDep, actor: ActorDep, form: FormDep
) -> Response:
    """Record a review a party gave in person: acceptance of the text shown, or the changes they ask for."""
    data, errors = validate_form(ReviewRecord, form)
    if data is None:
        return _invalid(request, session, actor, case=case, errors=errors, failed="review", form=form)
    participant = party_of_case(session, case=case, participant_id=data.participant_id)
    try:
        service.record_review(
            session,
            actor=actor,
            case=case,
            version=version,
            participant=participant,  # type: ignore[arg-type]
            decision=data.decision,
            text_sha256=data.text_sha256,
            comment=data.comment,
        )
    except (Conflict, InvalidInput) as exc:
        return _refused(request, session, actor, case=case, exc=exc, failed="review", form=form)
    return redirect(
        request, _url(case), flash=_("The review by %(name)s is recorded.") % {"name": participant.display_name}
    )  # type: ignore[union-attr]


@router.post(ONE + "/send-for-signature")
def send_for_signature(
    request: Request, case: DetailCase, version: WritableVersion, session: SessionDep, actor: ActorDep, form: FormDep
) -> Response:
    """Open the version for signature; refused with the G4 checklist unless both parties accepted it."""
    try:
        service.send_for_signature(session, actor=actor, case=case, version=version)
    except Conflict as exc:
        return _refused(request, session, actor, case=case, exc=exc, failed="send", form=form)
    return redirect(
        request, _url(case), flash=_("Version %(number)s is open for signature.") % {"number": version.number}
    )


@router.post(ONE + "/signatures")
def sign_version(
    request: Request, case: DetailCase, version: WritableVersion, session: SessionDep, actor: ActorDep, form: FormDep
) -> Response:
    """Sign as the facilitator, or record a party's signature given in person, on the text shown."""
    data, errors = validate_form(SignatureCreate, form, flags=("intent_confirmed",))
    if data is None:
        return _invalid(request, session, actor, case=case, errors=errors, failed="sign", form=form)
    participant = party_of_case(session, case=case, participant_id=data.participant_id)
    try:
        service.sign_version(
            session,
            actor=actor,
            case=case,
            version=version,
            text_sha256=data.text_sha256,
            typed_name=data.typed_name,
            intent_confirmed=data.intent_confirmed,
            ip_address=client_ip(request),
            user_agent=request.headers.get("user-agent"),
            participant=participant,
        )
    except (Conflict, InvalidInput) as exc:
        return _refused(request, session, actor, case=case, exc=exc, failed="sign", form=form)
    sealed = version.status == VersionStatus.sealed
    flash = _("Signed. Every signature is in: the agreement is sealed.") if sealed else _("The signature is recorded.")
    return redirect(request, _url(case), flash=flash)


@router.post(ONE + "/decline")
def decline_to_sign(
    request: Request, case: DetailCase, version: WritableVersion, session: SessionDep, actor: ActorDep, form: FormDep
) -> Response:
    """Record that a signer declines, with the reason; the agreement goes back to drafting."""
    data, errors = validate_form(DeclineCreate, form)
    if data is None:
        return _invalid(request, session, actor, case=case, errors=errors, failed="decline", form=form)
    participant = party_of_case(session, case=case, participant_id=data.participant_id)
    try:
        service.decline_to_sign(
            session, actor=actor, case=case, version=version, reason=data.reason, participant=participant
        )
    except (Conflict, InvalidInput) as exc:
        return _refused(request, session, actor, case=case, exc=exc, failed="decline", form=form)
    return redirect(request, _url(case), flash=_("Recorded: not signed. The agreement is back in drafting."))


@router.get(ONE + "/pdf")
def download_pdf(
    case: VisibleCase, version: ReadableVersion, session: SessionDep, actor: ActorDep, language: PdfLanguage = "en"
) -> Response:
    """The sealed version's PDF in a language it was stored in, as stored when it was sealed."""
    response = pdf_response(session, case=case, version=version, language=language)
    record_case_read(session, actor=actor, case=case, what="agreement.pdf")
    return response


# --- the term editor ----------------------------------------------------------------------------


class EditorState(BaseModel):
    """What the editor shows: the rows as typed, the version they start from, and any refusal."""

    rows: list[dict[str, Any]]
    based_on: str = ""
    change_note: str = ""
    amendment: bool = False
    errors: dict[str, str] = {}
    focus: str | None = None


def _editor(
    request: Request,
    session: Session,
    *,
    case: Case,
    state: EditorState,
    refusal: AppError | None = None,
    current: AgreementVersion | None = None,
    status_code: int = 200,
    block: str = "content",
) -> Response:
    latest = queries.latest_version(session, case=case)
    terms, incomplete = preview_terms(state.rows)
    number = (latest.number if latest else 0) + 1
    people = queries.participants(session, case=case)
    context = LABELS | {
        "case": case,
        "state": state,
        "errors": state.errors,
        "latest": latest,
        # Per kind of term, only the people who can owe it (rules.OWER_ROLES).
        "owers": {
            kind.value: [
                (str(p.id), f"{p.display_name} ({_(PARTICIPANT_ROLE_LABELS[p.role])})")
                for p in people
                if p.role in OWER_ROLES[kind]
            ]
            for kind in TermKind
        },
        "conference_held": queries.conference_held(session, case=case),
        "preview_lines": queries.preview_text(session, case=case, terms=terms, number=number).rstrip("\n").split("\n"),
        "incomplete": incomplete,
        "refusal": refusal,
        "current": current,
        "current_lines": current.canonical_text.rstrip("\n").split("\n") if current else [],
        "action_url": _url(case, "/amend" if state.amendment else "/edit"),
        # Each term's written words are also given in each other language a participant reads.
        "translation_languages": [
            (code, language_name(code, current_language()))
            for code in sorted(service.participant_languages(session, case=case) - {RECORD_LANGUAGE})
        ],
    }
    return render(request, "agreements/edit.html", context, status_code=status_code, block=block)


def _responsible_id(session: Session, case: Case) -> int | None:
    return next(
        (p.id for p in queries.parties(session, case=case) if p.role == ParticipantRole.responsible_party), None
    )


def _start_state(version: AgreementVersion | None, *, amendment: bool) -> EditorState:
    if version is None:
        return EditorState(rows=[], amendment=amendment)
    return EditorState(rows=rows_from_terms(version.terms), based_on=str(version.number), amendment=amendment)


@router.get(BASE + "/edit")
def edit_page(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep) -> Response:
    """The term editor, starting from the latest version."""
    latest = queries.latest_version(session, case=case)
    return _editor(request, session, case=case, state=_start_state(latest, amendment=False))


@router.get(BASE + "/amend")
def amend_page(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep) -> Response:
    """The term editor for an amendment, starting from the sealed version in force."""
    latest = queries.latest_version(session, case=case)
    if latest is None or latest.status != VersionStatus.sealed:
        return redirect(request, _url(case, "/edit"))
    return _editor(request, session, case=case, state=_start_state(latest, amendment=True))


def _submit(
    request: Request, session: Session, actor: Actor, *, case: Case, form: FormData, amendment: bool
) -> Response:
    """A press of one of the editor's buttons: save, or change the rows and show the editor again."""
    state = EditorState(
        rows=rows_from_form(form),
        based_on=str(form.get("based_on") or "").strip(),
        change_note=str(form.get("change_note") or ""),
        amendment=amendment,
    )
    action = str(form.get("action") or "preview")
    if action != "save":
        state.rows, state.errors, state.focus = apply_editor_action(
            state.rows, action, default_owed_by=_responsible_id(session, case)
        )
        return _editor(request, session, case=case, state=state, status_code=422 if state.errors else 200)
    data, state.errors = parse_rows(
        state.rows, based_on=state.based_on, change_note=state.change_note, amendment=amendment
    )
    if data is None:
        return _editor(request, session, case=case, state=state, status_code=422)
    try:
        if amendment:
            version = service.start_amendment(
                session,
                actor=actor,
                case=case,
                terms=data.terms,
                change_note=data.change_note,
                based_on=data.based_on,  # type: ignore[arg-type]
            )
        else:
            version = service.save_draft(
                session, actor=actor, case=case, terms=data.terms, based_on=data.based_on, change_note=data.change_note
            )
    except (Conflict, InvalidInput) as exc:
        return _editor_refused(request, session, case=case, state=state, exc=exc)
    return redirect(request, _url(case), flash=_("Saved as version %(number)s.") % {"number": version.number})


def _editor_refused(request: Request, session: Session, *, case: Case, state: EditorState, exc: AppError) -> Response:
    """Nothing is saved; on an edit conflict the current text is shown beside the person's unsaved terms."""
    session.rollback()
    state.errors = translated(exc.field_errors)
    current = None
    if any(c.code == "edit_conflict" for c in exc.conditions):
        current = queries.latest_version(session, case=case)
        # Saving again is now a deliberate choice made after reading the current text.
        state.based_on = str(current.number) if current else ""
    refusal = None if isinstance(exc, InvalidInput) else exc
    return _editor(
        request, session, case=case, state=state, refusal=refusal, current=current, status_code=exc.status_code
    )


@router.post(BASE + "/edit")
def edit_submit(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    """Save the draft as a new version, or add, remove or split without saving (works without JavaScript)."""
    return _submit(request, session, actor, case=case, form=form, amendment=False)


@router.post(BASE + "/amend")
def amend_submit(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    """Save the amendment as a new version, or change the rows without saving."""
    return _submit(request, session, actor, case=case, form=form, amendment=True)


@router.post(BASE + "/preview")
def preview(request: Request, case: DetailCase, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    """The live preview (HTMX): the agreement as the parties will read it, from the unsaved form."""
    state = EditorState(rows=rows_from_form(form), based_on=str(form.get("based_on") or ""))
    return _editor(request, session, case=case, state=state, block="preview")


# --- the diff of two versions -------------------------------------------------------------------


@router.get(BASE + "/diff")
def diff_page(
    request: Request,
    case: VisibleCase,
    session: SessionDep,
    actor: ActorDep,
    from_: str = Query(default="", alias="from", max_length=12),
    to: str = Query(default="", max_length=12),
) -> Response:
    """What changed between two versions, line by line, marked in words as well as colour."""
    versions = readable_versions(session, case=case, actor=actor)
    numbers = [v.number for v in versions]
    new_number = optional_id(to) or (numbers[0] if numbers else None)
    old_number = optional_id(from_) or next((n for n in numbers if new_number and n < new_number), None)
    old = readable_version(session, case=case, actor=actor, number=old_number) if old_number else None
    new = readable_version(session, case=case, actor=actor, number=new_number) if new_number else None
    record_case_read(session, actor=actor, case=case, what="agreement")
    context = LABELS | {
        "case": case,
        "version_options": [(v.number, f"Version {v.number} ({STATUS_LABELS[v.status]})") for v in versions],
        "old": old,
        "new": new,
        "lines": queries.diff_lines(old.canonical_text, new.canonical_text) if old and new else [],
    }
    return render(request, "agreements/diff.html", context)
