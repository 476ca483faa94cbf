"""Drafting, review (G4), signing and sealing (G5) of reparation agreements.

Every saved draft is a new version; an edit supersedes the version before it and with it every
signature given so far. Sealing happens in the signing request's own transaction: the version is
sealed with its stored PDF, or not at all.
"""

from dataclasses import replace

from pydantic import TypeAdapter
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import faults
from app.actor import Actor
from app.agreements import storage
from app.agreements.commitment_service import create_commitments
from app.agreements.models import (
    Agreement,
    AgreementVersion,
    Review,
    ReviewDecision,
    Signature,
    SignatureDecline,
    VersionStatus,
)
from app.agreements.rules import (
    INTENT_STATEMENT,
    ReviewFact,
    all_signed,
    can_move,
    language_conditions,
    ower_problems,
    review_conditions,
    signing_conditions,
    transition_conditions,
)
from app.agreements.terms import (
    RECORD_LANGUAGE,
    Term,
    agreement_text,
    stored_term,
    text_hash,
    text_languages,
    text_sections,
)
from app.audit.service import record_event
from app.conferences.models import Case, CaseSession, Participant, ParticipantRole, SessionKind, SessionStatus
from app.conferences.service import require_case_writer, require_open_case
from app.db import utcnow
from app.errors import Condition, Conflict, InvalidInput, NotFound
from app.i18n import N_, gettext, language_for
from app.notifications.service import notify_case_facilitators

FACILITATOR_SIGNER = "facilitator"
_TERMS = TypeAdapter(list[Term])

ADD_A_TERM = N_("Add at least one term, with the buttons under “Add a term”.")


def _move(session: Session, *, version: AgreementVersion, target: VersionStatus) -> None:
    problems = transition_conditions(VersionStatus(version.status), target)
    if problems:
        raise Conflict(problems[0].message, conditions=problems)
    version.status = target
    session.add(version)


def _parties(session: Session, *, case: Case) -> dict[ParticipantRole, Participant]:
    people = session.exec(select(Participant).where(Participant.case_id == case.id)).all()
    found = {}
    for role in (ParticipantRole.survivor, ParticipantRole.responsible_party):
        match = [p for p in people if p.role == role]
        if match:
            found[role] = match[0]
    return found


def latest_version(session: Session, *, agreement: Agreement) -> AgreementVersion | None:
    return session.exec(
        select(AgreementVersion)
        .where(AgreementVersion.agreement_id == agreement.id)
        .order_by(col(AgreementVersion.number).desc())
    ).first()


def agreement_of(session: Session, *, case: Case) -> Agreement | None:
    return session.exec(select(Agreement).where(Agreement.case_id == case.id)).first()


def _held_conference(session: Session, *, case: Case) -> CaseSession | None:
    return session.exec(
        select(CaseSession).where(
            CaseSession.case_id == case.id,
            CaseSession.kind == SessionKind.conference,
            CaseSession.status == SessionStatus.held,
        )
    ).first()


def _new_version(
    session: Session,
    *,
    actor: Actor,
    case: Case,
    agreement: Agreement,
    number: int,
    terms: list[Term],
    change_note: str,
    amends: AgreementVersion | None = None,
) -> AgreementVersion:
    people = session.exec(select(Participant).where(Participant.case_id == case.id)).all()
    names = {p.id: p.display_name for p in people}
    for term in terms:
        if term.owed_by not in names:
            message = N_("Choose, for each term, a participant of this case who does it.")
            raise InvalidInput(message, field_errors={"terms": message})
    if wrong := ower_problems(terms, {p.id: ParticipantRole(p.role) for p in people}):  # type: ignore[misc]
        first = min(wrong)
        raise InvalidInput(
            wrong[first], field_errors={f"terms-{index}-owed_by": message for index, message in wrong.items()}
        )
    parties = {
        p.id: p.display_name for p in people if p.role in (ParticipantRole.survivor, ParticipantRole.responsible_party)
    }
    text = agreement_text(
        case_reference=case.reference,
        number=number,
        parties=parties | {t.owed_by: names[t.owed_by] for t in terms},
        terms=terms,
        languages=text_languages(terms, participant_languages(session, case=case)),
    )
    version = AgreementVersion(
        program_id=case.program_id,
        agreement_id=agreement.id,
        number=number,  # type: ignore[arg-type]
        terms=[stored_term(t) for t in terms],
        canonical_text=text,
        text_sha256=text_hash(text),
        amends_version_id=amends.id if amends else None,
        change_note=change_note.strip(),
        created_by_id=actor.user_id,  # type: ignore[arg-type]
    )
    session.add(version)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # another save took this number first
        raise Conflict(
            "Someone else saved this agreement a moment ago. Nothing was overwritten.",
            conditions=[
                Condition(
                    "edit_conflict", N_("Reload the agreement, read the current text, and make your change again.")
                )
            ],
        ) from exc
    return version


def save_draft(
    session: Session, *, actor: Actor, case: Case, terms: list[Term], based_on: int | None, change_note: str = ""
) -> AgreementVersion:
    """Save the draft as a new version. `based_on` is the version number the editor started from:
    if someone saved since, the save is refused with the current text (optimistic locking)."""
    require_case_writer(actor)
    require_open_case(session, case=case)
    if not terms:
        raise InvalidInput(ADD_A_TERM, field_errors={"terms": ADD_A_TERM})
    if _held_conference(session, case=case) is None:
        raise Conflict(
            "Draft the agreement after the conference is held.",
            conditions=[
                Condition("conference_not_held", N_("Mark the conference as held first."), f"/cases/{case.id}/sessions")
            ],
        )
    agreement = agreement_of(session, case=case)
    if agreement is None:
        agreement = Agreement(
            program_id=case.program_id,
            case_id=case.id,
            created_by_id=actor.user_id,  # type: ignore[arg-type]
            conference_session_id=_held_conference(session, case=case).id,
        )  # type: ignore[union-attr]
        session.add(agreement)
        session.flush()
    latest = latest_version(session, agreement=agreement)
    current_number = latest.number if latest else None
    if based_on != current_number:
        text = latest.canonical_text if latest else ""
        raise Conflict(
            f"Someone saved version {current_number} while you were editing version {based_on}. Your changes were "
            "not saved, and nothing was overwritten. The current text is:\n\n" + text,
            conditions=[Condition("edit_conflict", N_("The agreement changed while you were editing it."))],
        )
    if latest is not None and latest.status == VersionStatus.sealed:
        raise Conflict(
            "This agreement is sealed. Change it with an amendment.",
            conditions=[Condition("version_sealed", N_("Start an amendment to change a sealed agreement."))],
        )
    if latest is not None:
        _move(session, version=latest, target=VersionStatus.superseded)
    # An edit of an amendment is still that amendment: once sealed, it must supersede the sealed version.
    amends = session.get(AgreementVersion, latest.amends_version_id) if latest and latest.amends_version_id else None
    version = _new_version(
        session,
        actor=actor,
        case=case,
        agreement=agreement,
        number=(current_number or 0) + 1,
        terms=terms,
        change_note=change_note,
        amends=amends,
    )
    record_event(
        session,
        actor=actor,
        action="agreement.draft_saved",
        entity_type="agreement_version",
        entity_id=version.id,
        case_id=case.id,
        detail={"number": version.number, "sha256": version.text_sha256, "terms": len(terms)},
    )
    return version


def start_amendment(
    session: Session, *, actor: Actor, case: Case, terms: list[Term], change_note: str, based_on: int
) -> AgreementVersion:
    """Amend a sealed agreement: a new version that goes through review and signing again.
    The sealed version stays in force until the amendment is sealed."""
    require_case_writer(actor)
    require_open_case(session, case=case)
    agreement = agreement_of(session, case=case)
    latest = latest_version(session, agreement=agreement) if agreement else None
    if latest is None or latest.status != VersionStatus.sealed:
        raise Conflict(
            "Only a sealed agreement is amended; edit the draft instead.",
            conditions=[Condition("transition_not_allowed", N_("Edit the draft: it is not sealed yet."))],
        )
    if based_on != latest.number:
        raise Conflict(
            "The agreement changed while you were editing it.",
            conditions=[Condition("edit_conflict", N_("Reload and start again."))],
        )
    if not terms:
        raise InvalidInput(ADD_A_TERM, field_errors={"terms": ADD_A_TERM})
    if not change_note.strip():
        message = N_("Say why the agreement is being amended.")
        raise InvalidInput(message, field_errors={"change_note": message})
    version = _new_version(
        session,
        actor=actor,
        case=case,
        agreement=agreement,
        number=latest.number + 1,  # type: ignore[arg-type]
        terms=terms,
        change_note=change_note,
        amends=latest,
    )
    record_event(
        session,
        actor=actor,
        action="agreement.amendment_started",
        entity_type="agreement_version",
        entity_id=version.id,
        case_id=case.id,
        detail={"amends": latest.number},
    )
    return version


def reading_conditions(session: Session, *, case: Case, version: AgreementVersion) -> list[Condition]:
    """What keeps a participant from reading this version in their own language (every term translated),
    each with the way to the editor, where the wording is added."""
    problems = language_conditions(
        terms=_TERMS.validate_python(version.terms),
        written_in=text_sections(version.canonical_text),
        readers=participant_languages(session, case=case),
    )
    return [replace(problem, fix_path=f"/cases/{case.id}/agreement/edit") for problem in problems]


def send_for_review(session: Session, *, actor: Actor, case: Case, version: AgreementVersion) -> AgreementVersion:
    """Send this exact version to the survivor and the responsible party for review (G4)."""
    require_case_writer(actor)
    require_open_case(session, case=case)
    if can_move(VersionStatus(version.status), VersionStatus.in_review):
        problems = reading_conditions(session, case=case, version=version)
        if problems:
            raise Conflict("Each person must be able to read this version in their language.", conditions=problems)
    _move(session, version=version, target=VersionStatus.in_review)
    record_event(
        session,
        actor=actor,
        action="agreement.sent_for_review",
        entity_type="agreement_version",
        entity_id=version.id,
        case_id=case.id,
        detail={"sha256": version.text_sha256},
    )
    return version


def _review_facts(session: Session, *, version: AgreementVersion) -> list[ReviewFact]:
    rows = session.exec(select(Review).where(Review.version_id == version.id).order_by(col(Review.id))).all()
    return [ReviewFact(r.participant_id, ReviewDecision(r.decision), r.text_sha256) for r in rows]


def record_review(
    session: Session,
    *,
    actor: Actor,
    case: Case,
    version: AgreementVersion,
    participant: Participant,
    decision: ReviewDecision,
    text_sha256: str,
    comment: str = "",
) -> Review:
    """A party accepts the exact text they were shown, or asks for changes (which returns it to drafting)."""
    if actor.kind == "participant" and actor.participant_id != participant.id:
        raise NotFound("No such agreement.")
    if actor.kind != "participant":
        require_case_writer(actor)
    require_open_case(session, case=case)
    if participant.role not in (ParticipantRole.survivor, ParticipantRole.responsible_party):
        raise Conflict(
            "Only the survivor and the responsible party review the agreement.",
            conditions=[Condition("not_a_signer", N_("This person does not review or sign this agreement."))],
        )
    if version.status != VersionStatus.in_review:
        raise Conflict(
            "This version is not open for review.",
            conditions=[Condition("not_in_review", f"This version is {version.status.replace('_', ' ')}.")],
        )
    if text_sha256 != version.text_sha256:
        raise Conflict(
            "The text you reviewed is not this version's text.",
            conditions=[Condition("text_changed", N_("Read the current text and review that."))],
        )
    if decision == ReviewDecision.changes_requested and not comment.strip():
        message = N_("Say what you would like changed.")
        raise InvalidInput(message, field_errors={"comment": message})
    review = Review(
        program_id=version.program_id,
        version_id=version.id,
        participant_id=participant.id,  # type: ignore[arg-type]
        text_sha256=text_sha256,
        decision=decision,
        comment=comment.strip(),
        via="portal" if actor.kind == "participant" else "facilitator",
        recorded_by_id=actor.user_id,
    )
    session.add(review)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=f"agreement.review_{decision}",
        entity_type="agreement_version",
        entity_id=version.id,
        case_id=case.id,
        detail={"participant_id": participant.id},
    )
    if decision == ReviewDecision.changes_requested:
        _move(session, version=version, target=VersionStatus.changes_requested)
        notify_case_facilitators(
            session,
            case=case,
            kind="agreement_changes_requested",
            subject=f"Case {case.reference}: changes asked for in agreement version {version.number}",
            body=f"{participant.display_name} asked for changes:\n\n{comment.strip()}",
        )
        return review
    parties = _parties(session, case=case)
    survivor, responsible = parties.get(ParticipantRole.survivor), parties.get(ParticipantRole.responsible_party)
    if not review_conditions(
        reviews=_review_facts(session, version=version),
        text_sha256=version.text_sha256,
        survivor_id=survivor.id if survivor else None,
        responsible_id=responsible.id if responsible else None,
    ):
        _move(session, version=version, target=VersionStatus.accepted)
    return review


def required_signers(session: Session, *, case: Case) -> dict[str, str]:
    """Signer key -> role: the survivor, the responsible party and a facilitator."""
    parties = _parties(session, case=case)
    keys = {f"participant:{p.id}": role.value for role, p in parties.items()}
    return keys | {FACILITATOR_SIGNER: "facilitator"}


def send_for_signature(session: Session, *, actor: Actor, case: Case, version: AgreementVersion) -> AgreementVersion:
    """G4: only a version the survivor (and the responsible party) accepted, exactly as it stands, goes to signing."""
    require_case_writer(actor)
    require_open_case(session, case=case)
    parties = _parties(session, case=case)
    survivor, responsible = parties.get(ParticipantRole.survivor), parties.get(ParticipantRole.responsible_party)
    problems = review_conditions(
        reviews=_review_facts(session, version=version),
        text_sha256=version.text_sha256,
        survivor_id=survivor.id if survivor else None,
        responsible_id=responsible.id if responsible else None,
    )
    problems += transition_conditions(VersionStatus(version.status), VersionStatus.signing)
    problems += reading_conditions(session, case=case, version=version)
    if problems:
        raise Conflict("This version cannot be sent for signature yet.", conditions=problems)
    _move(session, version=version, target=VersionStatus.signing)
    record_event(
        session,
        actor=actor,
        action="agreement.sent_for_signature",
        entity_type="agreement_version",
        entity_id=version.id,
        case_id=case.id,
        detail={"sha256": version.text_sha256},
    )
    return version


def signatures_of(session: Session, *, version: AgreementVersion) -> list[Signature]:
    return list(
        session.exec(
            select(Signature)
            .where(Signature.version_id == version.id)
            .order_by(col(Signature.signed_at), col(Signature.id))
        ).all()
    )


def sign_version(
    session: Session,
    *,
    actor: Actor,
    case: Case,
    version: AgreementVersion,
    text_sha256: str,
    typed_name: str,
    intent_confirmed: bool,
    ip_address: str | None,
    user_agent: str | None,
    participant: Participant | None = None,
    language: str = RECORD_LANGUAGE,
) -> Signature:
    """G5: sign the exact text (its SHA-256). The last required signature seals the version. The intent
    statement is kept in `language`, the words the signer ticked."""
    if actor.kind == "participant":
        if participant is None or actor.participant_id != participant.id:
            raise NotFound("No such agreement.")
        signer_key, role, method, user_id = f"participant:{participant.id}", participant.role, "portal", None
    elif participant is not None:  # a facilitator records a party's signature given in person
        require_case_writer(actor)
        signer_key, role, method, user_id = f"participant:{participant.id}", participant.role, "in_person", None
    else:
        require_case_writer(actor)
        signer_key, role, method, user_id = FACILITATOR_SIGNER, "facilitator", "in_person", actor.user_id
    require_open_case(session, case=case)
    if not intent_confirmed:
        raise InvalidInput(
            "Tick the box to confirm you sign of your own free will.",
            field_errors={"intent_confirmed": N_("Tick this box to sign.")},
        )
    if not typed_name.strip():
        raise InvalidInput("Type your full name to sign.", field_errors={"typed_name": N_("Type your full name.")})
    required = required_signers(session, case=case)
    signed = [s.signer_key for s in signatures_of(session, version=version)]
    problems = signing_conditions(
        status=VersionStatus(version.status),
        version_sha256=version.text_sha256,
        offered_sha256=text_sha256,
        signer_key=signer_key,
        required=required,
        signed=signed,
    )
    if problems:
        raise Conflict("This signature cannot be recorded.", conditions=problems)
    signature = Signature(
        program_id=version.program_id,
        version_id=version.id,
        signer_key=signer_key,  # type: ignore[arg-type]
        participant_id=participant.id if participant else None,
        user_id=user_id,
        signer_role=str(role),
        text_sha256=text_sha256,
        typed_name=typed_name.strip(),
        intent_statement=gettext(INTENT_STATEMENT, language),
        method=method,
        recorded_by_id=actor.user_id,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:400] or None,
        signed_at=utcnow(),
    )
    session.add(signature)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "This signature cannot be recorded.",
            conditions=[Condition("already_signed", N_("This version is already signed by this signer."))],
        ) from exc
    record_event(
        session,
        actor=actor,
        action="agreement.signed",
        entity_type="agreement_version",
        entity_id=version.id,
        case_id=case.id,
        detail={"signer": signer_key, "method": method, "sha256": text_sha256},
    )
    if all_signed(required=required, signed=[*signed, signer_key]):
        seal_version(session, actor=actor, case=case, version=version)
    return signature


def decline_to_sign(
    session: Session,
    *,
    actor: Actor,
    case: Case,
    version: AgreementVersion,
    reason: str,
    participant: Participant | None = None,
) -> SignatureDecline:
    """A signer declines, with a reason; the agreement goes back to drafting."""
    if actor.kind == "participant" and (participant is None or actor.participant_id != participant.id):
        raise NotFound("No such agreement.")
    if actor.kind != "participant":
        require_case_writer(actor)
    if not reason.strip():
        message = N_("Say why you do not sign.")
        raise InvalidInput(message, field_errors={"reason": message})
    signer_key = f"participant:{participant.id}" if participant else FACILITATOR_SIGNER
    if signer_key not in required_signers(session, case=case):
        raise Conflict(
            "Only a person who signs this agreement can decline to sign it.",
            conditions=[Condition("not_a_signer", N_("This person is not one of the signers of this agreement."))],
        )
    if version.status != VersionStatus.signing:
        # The table lets a version in review go back to drafting (a review asking for changes), but
        # only a version open for signature can be declined; sealed and superseded keep their own codes.
        problems = transition_conditions(VersionStatus(version.status), VersionStatus.changes_requested) or [
            Condition("not_open_for_signature", N_("This version is not open for signature."))
        ]
        raise Conflict(problems[0].message, conditions=problems)
    _move(session, version=version, target=VersionStatus.changes_requested)
    decline = SignatureDecline(
        program_id=version.program_id,
        version_id=version.id,
        signer_key=signer_key,  # type: ignore[arg-type]
        reason=reason.strip(),
    )
    session.add(decline)
    record_event(
        session,
        actor=actor,
        action="agreement.signature_declined",
        entity_type="agreement_version",
        entity_id=version.id,
        case_id=case.id,
        detail={"signer": signer_key},
    )
    notify_case_facilitators(
        session,
        case=case,
        kind="agreement_declined",
        subject=f"Case {case.reference}: agreement version {version.number} not signed",
        body=f"A signer declined to sign:\n\n{reason.strip()}",
    )
    return decline


def participant_languages(session: Session, *, case: Case) -> set[str]:
    """The languages Mend speaks to the case's participants (their preferred ones where there is a catalog)."""
    preferred = session.exec(select(Participant.preferred_language).where(Participant.case_id == case.id)).all()
    return {language_for(language) for language in preferred}


def seal_version(session: Session, *, actor: Actor, case: Case, version: AgreementVersion) -> None:
    """Seal: immutable from now on, its PDF rendered once and stored with its hash, all in this transaction."""
    from app.agreements.pdf import render_agreement_pdf  # WeasyPrint is heavy: load it only to seal

    _move(session, version=version, target=VersionStatus.sealed)
    version.sealed_at = utcnow()
    session.add(version)
    session.flush()
    # G6: the follow-up begins in the same transaction: the sealed terms become commitments. They are
    # written before the PDF is rendered, so a failed rendering is seen to take them back with it.
    create_commitments(session, actor=actor, case=case, version=version, terms=_TERMS.validate_python(version.terms))
    faults.pause_point("agreement.seal.after_commitments")
    pdf = render_agreement_pdf(session, case=case, version=version)
    document = storage.store_document(session, version=version, content=pdf)
    # Each participant downloads their copy in their own language: the same terms, hash and signatures,
    # the fixed wording translated. Rendered now, in this transaction, and stored like the record copy.
    copies = {}
    for language in participant_languages(session, case=case) - {storage.RECORD_LANGUAGE}:
        content = render_agreement_pdf(session, case=case, version=version, language=language)
        copies[language] = storage.store_document(session, version=version, content=content, language=language).sha256
    if version.amends_version_id is not None:
        previous = session.get(AgreementVersion, version.amends_version_id)
        if previous is not None and previous.status == VersionStatus.sealed:
            _move(session, version=previous, target=VersionStatus.superseded)
    record_event(
        session,
        actor=actor,
        action="agreement.sealed",
        entity_type="agreement_version",
        entity_id=version.id,
        case_id=case.id,
        detail={
            "sha256": version.text_sha256,
            "pdf_sha256": document.sha256,
            "bytes": document.size_bytes,
            **({"translated_pdf_sha256": copies} if copies else {}),
        },
    )
    faults.pause_point("agreement.seal.after_pdf_stored")  # everything written, nothing committed yet
    faults.pause_after_commit(session, "agreement.seal.after_commit")  # committed, no response sent yet
