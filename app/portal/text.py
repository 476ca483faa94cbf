"""The portal's words, in plain language, marked for translation.

Portal pages are for survivors and responsible parties, not for staff: short sentences at about a
6th-8th grade reading level (tests/i18n/test_reading_level.py). The English text is the msgid; the
Spanish is in app/locale/es/LC_MESSAGES/messages.po, and tests/i18n/test_catalogs.py fails when a
marked string has no translation, so a page never mixes languages under one `lang` attribute.
Constants are marked with `N_` and translated where they are shown, in the person's language.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from app.agreements.commitment_rules import MINUTES_PER_HOUR, CommitmentStatus
from app.agreements.models import CommitmentKind, ProgressKind
from app.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    N_,
    Translate,
    clock_time,
    language_for,
    long_date,
    long_day,
    money,
    ngettext,
    number,
    weekday_date,
)
from app.i18n import translator as translator
from app.portal.rules import PortalAction, PortalGuidance, PortalStage
from app.safety.models import ConsentScope
from app.safety.sheets import InformationSheet

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Translate", "long_date", "long_day", "portal_language", "translator"]

# Plain-language names and explanations of each consent scope, in the order the portal lists them.
SCOPE_TITLES: dict[ConsentScope, str] = {
    ConsentScope.contact: N_("Contact from the program"),
    ConsentScope.preparation: N_("Getting ready with your facilitator"),
    ConsentScope.conference: N_("Taking part in the meeting"),
    ConsentScope.share_information: N_("Sharing what you told us"),
    ConsentScope.support_person: N_("A support person with you"),
    ConsentScope.progress_updates: N_("News about the agreement"),
}
SCOPE_EXPLANATIONS: dict[ConsentScope, str] = {
    ConsentScope.contact: N_("Your facilitator can call or write to you, in the way you chose."),
    ConsentScope.preparation: N_(
        "You meet your facilitator on your own. You talk about the process and what you want."
    ),
    ConsentScope.conference: (
        N_("You and the other person meet and talk, with a facilitator. It only happens if you both say yes.")
    ),
    ConsentScope.share_information: (
        N_("Your facilitator may tell the other person some things you said. Only the things you agree to.")
    ),
    ConsentScope.support_person: N_("Someone you trust can be with you at meetings."),
    ConsentScope.progress_updates: N_("If there is an agreement, we tell you how it is going."),
}

# Messages the portal's routes show (flash messages and error pages).
SAID_YES = N_("You said yes.")
ALREADY_YES = N_("You already said yes to this.")
NOTHING_TO_STOP = N_("You have not said yes to this, so there is nothing to stop.")
PAGE_EXPIRED = N_("This page has expired. Go back, reload the page and try again.")
PAGE_NOT_FOUND = N_("We could not find this page.")
NOT_UNDERSTOOD = N_("We did not understand this request. Go back and try again.")

# The agreement pages (app/portal/agreement_views.py). The terms are shown exactly as the signed text
# says them, in the person's language (the text holds every reader's language under one hash).
# INTENT_STATEMENT (app/agreements/rules.py) is shown in the person's language, and their signature
# keeps it in those words.
ACCEPTED = N_("Thank you. You accepted the agreement.")
CHANGES_SENT = N_("Thank you. Your facilitator will read what you would like changed.")
SIGNED = N_("Thank you. You signed the agreement.")
DECLINED = N_("Your facilitator will be told that you do not want to sign.")
TYPE_YOUR_NAME = N_("Type your full name.")
TICK_TO_SIGN = N_("Tick this box to sign.")
SAY_WHAT_TO_CHANGE = N_("Say what you would like changed.")
SAY_WHY_NOT = N_("Say why you do not want to sign.")
TOO_LONG = N_("This is too long. Please make it shorter.")
TEXT_CHANGED = N_("The agreement changed after you opened this page. Please read the new text.")
NOT_IN_REVIEW = N_("This agreement is not waiting for your answer now.")
NOT_FOR_SIGNATURE = N_("This agreement is not ready to sign now.")
ALREADY_SIGNED = N_("You already signed this agreement.")
NOT_POSSIBLE = N_("This could not be done now. Please read the page again.")
# Where the person is with the agreement (app/portal/agreement_queries.AgreementStep), for the API.
AGREEMENT_STEPS: dict[str, str] = {
    "nothing": N_("Your facilitator is writing the agreement. You will read it here before anyone signs."),
    "review": N_("Take your time. Then choose: accept it, or ask for changes. Nothing is signed yet."),
    "reviewed": N_("Next: when it is accepted, your facilitator will ask all of you to sign it."),
    "changes_asked": N_(
        "Your facilitator will read your comment and change the agreement. You will read the new version here."
    ),
    "declined": N_("Your facilitator will talk with you about what to do next."),
    "accepted": N_("Next: your facilitator will ask everyone to sign it."),
    "sign": N_("Read it again before you sign. You do not have to sign."),
    "signed": N_("You signed this agreement."),
    "sealed": N_("Signed by everyone"),
}
# A refused step's condition codes (app/agreements/rules.py and service.py), in plain words.
REFUSALS: dict[str, str] = {
    "text_changed": TEXT_CHANGED,
    "not_in_review": NOT_IN_REVIEW,
    "not_open_for_signature": NOT_FOR_SIGNATURE,
    "already_signed": ALREADY_SIGNED,
}

# The follow-up pages (app/portal/commitment_views.py and commitment_api.py): what was agreed, how it is
# going, and a survivor's answer to a waiver. The commitments' descriptions are the agreement's words, in
# the person's language where the signed text holds it (else the English record's).
PROGRESS_NOT_SHARED = N_("You have not said yes to news about the agreement. So we do not show it here.")
HOW_TO_SEE_PROGRESS = N_(
    "That is your choice. If you want to see it, say yes to News about the agreement on the page Your choices. "
    "You can also ask your facilitator."
)
NOTHING_FOR_YOU = N_("There is nothing about the agreement for you to see here.")
WAIVER_AGREED = N_("Thank you. You said yes. This part of the agreement does not have to be done any more.")
WAIVER_KEPT = N_("Thank you. You said no. This part of the agreement stays. Your facilitator will be told.")
CHOOSE_YES_OR_NO = N_("Choose yes or no.")
ALREADY_ANSWERED = N_("You already answered this question.")
CASE_IS_CLOSED = N_("This case is closed. Nothing more can change.")
AGREEMENT_CHANGED = N_("The agreement changed. This question is not open any more.")
# A refused waiver answer's condition codes (app/agreements/commitment_service.py), in plain words.
WAIVER_REFUSALS: dict[str, str] = {
    "already_answered": ALREADY_ANSWERED,
    "case_closed": CASE_IS_CLOSED,
    "commitment_superseded": AGREEMENT_CHANGED,
}
# A commitment's status in words; colour on the page only supports them.
COMMITMENT_STATUS_WORDS: dict[CommitmentStatus, str] = {
    CommitmentStatus.upcoming: N_("Not due yet"),
    CommitmentStatus.due_soon: N_("Due soon"),
    CommitmentStatus.overdue: N_("Late"),
    CommitmentStatus.completed: N_("Done"),
    CommitmentStatus.waived: N_("Not needed any more"),
    CommitmentStatus.breached: N_("Not kept"),
}
# A no-contact promise is not "due": it stands until its end date.
NO_CONTACT_STATUS_WORDS: dict[CommitmentStatus, str] = {
    CommitmentStatus.upcoming: N_("In place"),
    CommitmentStatus.completed: N_("Ended"),
}
COMMITMENT_KIND_WORDS: dict[CommitmentKind, str] = {
    CommitmentKind.apology: N_("Apology"),
    CommitmentKind.payment: N_("Payment"),
    CommitmentKind.service_hours: N_("Community service"),
    CommitmentKind.program_attendance: N_("Program sessions"),
    CommitmentKind.no_contact: N_("No contact"),
    CommitmentKind.other: N_("Something else"),
}
PROGRESS_WORDS: dict[ProgressKind, str] = {
    ProgressKind.payment: N_("Payment received"),
    ProgressKind.hours: N_("Hours done"),
    ProgressKind.session_attended: N_("Session attended"),
    ProgressKind.apology_delivered: N_("Apology given"),
    ProgressKind.breach_reported: N_("Contact was reported"),
    ProgressKind.done: N_("Done"),
    ProgressKind.note: N_("Note"),
}
CASE_STATE_WORDS: dict[str, str] = {
    "no_agreement": N_("There is no signed agreement yet."),
    "monitoring": N_("The agreement is in place. Your facilitator checks how it is going."),
    "completed": N_("Everything in the agreement is done."),
    "closed": N_("This case is closed."),
}

# Shown only in English, to someone whose language has no translation yet.
NO_TRANSLATION_NOTE = N_(
    "This page is in English. If you need another language, ask your facilitator for an interpreter."
)


def portal_language(preferred: str | None) -> str:
    """The language the portal speaks to a person: theirs when a translation exists, else English."""
    return language_for(preferred)


def sheet_blocks(sheet: InformationSheet) -> list[tuple[str, str | list[str]]]:
    """The sheet's paragraphs as blocks to show: ("h2", text), ("ul", [items]) or ("p", text).

    Sheets are plain text with two Markdown habits: '## ' starts a heading, '- ' starts a list item.
    """
    blocks: list[tuple[str, str | list[str]]] = []
    for paragraph in sheet.paragraphs:
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        if len(lines) == 1 and lines[0].startswith("#"):
            blocks.append(("h2", lines[0].lstrip("#").strip()))
        elif lines and all(line.startswith(("- ", "* ")) for line in lines):
            blocks.append(("ul", [line[2:].strip() for line in lines]))
        else:
            blocks.append(("p", " ".join(lines)))
    return blocks


def status_words(kind: CommitmentKind, status: CommitmentStatus) -> str:
    """A commitment's status in plain words (the English key): a no-contact promise is "in place", not "due"."""
    if kind == CommitmentKind.no_contact and status in NO_CONTACT_STATUS_WORDS:
        return NO_CONTACT_STATUS_WORDS[status]
    return COMMITMENT_STATUS_WORDS[status]


def amount_words(kind: CommitmentKind, amount: int, currency: str | None, language: str) -> str | None:
    """An amount in the commitment's unit as people say it, in their language; None where there is no amount."""
    match kind:
        case CommitmentKind.payment:
            return money(amount, currency or "", language=language)
        case CommitmentKind.service_hours:
            hours = (Decimal(amount) / MINUTES_PER_HOUR).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
            shown = number(hours, language=language)
            return ngettext("%(hours)s hour", "%(hours)s hours", 1 if hours == 1 else 2, language) % {"hours": shown}
        case CommitmentKind.program_attendance:
            return ngettext("%(count)s session", "%(count)s sessions", amount, language) % {"count": amount}
        case _:
            return None


@dataclass(frozen=True)
class ActionWords:
    href: str
    label: str


@dataclass(frozen=True)
class GuidanceWords:
    """The portal home's guidance in the person's language, values filled in: what the page and the API show."""

    stage: PortalStage
    now: str
    next: str
    primary: ActionWords | None
    others: tuple[ActionWords, ...]
    step: int
    stopped: bool  # the person said stop: the page marks the status as such


def guidance_words(guidance: PortalGuidance, *, language: str, timezone: str) -> GuidanceWords:
    """Translate `portal_guidance`'s answer and fill in its dates, times and place, in the program's time zone."""
    _ = translator(language)
    values: dict[str, str] = {}
    for key, value in guidance.values.items():
        if key == "time" and isinstance(value, datetime):
            values[key] = clock_time(value, language=language, timezone=timezone)
        elif isinstance(value, datetime):
            values[key] = weekday_date(value.astimezone(ZoneInfo(timezone)).date(), language=language)
        elif isinstance(value, date):
            values[key] = weekday_date(value, language=language)
        else:
            values[key] = str(value)

    def action(found: PortalAction) -> ActionWords:
        return ActionWords(found.href, _(found.label))

    return GuidanceWords(
        stage=guidance.stage,
        now=_(guidance.now, **values),
        next=_(guidance.next, **values),
        primary=action(guidance.primary) if guidance.primary else None,
        others=tuple(action(other) for other in guidance.others),
        step=guidance.step,
        stopped=guidance.stopped,
    )
