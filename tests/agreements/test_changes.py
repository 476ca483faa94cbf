"""What changed between two versions, as a party reads them: plain function calls on versions built in memory."""

from datetime import date

from app.agreements.changes import (
    ChangeKind,
    ValueChange,
    changes_since_review,
    compare_versions,
    shown_changes,
)
from app.agreements.models import AgreementVersion, TermKind
from app.agreements.terms import (
    ApologyTerm,
    Instalment,
    NoContactTerm,
    OtherTerm,
    RestitutionTerm,
    ServiceHoursTerm,
    Term,
    canonical_text,
)

DAN, ROSA = 2, 1
PARTIES = {ROSA: "Rosa", DAN: "Dan"}


def version(number: int, terms: list[Term], parties: dict[int, str] = PARTIES) -> AgreementVersion:
    text = canonical_text(case_reference="HRP-7", number=number, parties=parties, terms=terms)
    return AgreementVersion(
        agreement_id=1, number=number, terms=[t.model_dump(mode="json") for t in terms], canonical_text=text
    )


def apology() -> ApologyTerm:
    return ApologyTerm(owed_by=DAN, form="written")


def payment(cents: int = 60_000, when: date = date(2026, 3, 1)) -> RestitutionTerm:
    return RestitutionTerm(
        owed_by=DAN, currency="EUR", amount_cents=cents, instalments=[Instalment(due_date=when, amount_cents=cents)]
    )


def test_the_same_terms_under_a_new_number_is_nothing_changed() -> None:
    changes = compare_versions(version(1, [apology(), payment()]), version(2, [apology(), payment()]))
    assert changes.since == 1 and changes.nothing and changes.terms == ()
    assert shown_changes(changes, "en") == []


def test_a_term_added_is_listed_with_its_new_wording_and_number() -> None:
    before, after = version(1, [apology()]), version(2, [apology(), NoContactTerm(owed_by=DAN)])
    [change] = compare_versions(before, after).terms
    assert (change.change, change.kind, change.number, change.before) == (
        ChangeKind.added,
        TermKind.no_contact,
        2,
        None,
    )
    assert change.after == "Dan will not contact the survivor in any way, directly or through others, with no end date."


def test_a_term_removed_is_listed_with_the_wording_it_had() -> None:
    before, after = version(1, [apology(), payment()]), version(2, [payment()])
    [change] = compare_versions(before, after).terms
    assert (change.change, change.number, change.after) == (ChangeKind.removed, 1, None)
    assert change.before == "Dan will write a letter of apology."


def test_a_changed_amount_and_date_are_values_not_wording() -> None:
    before = version(1, [apology(), payment(60_000, date(2026, 3, 1))])
    after = version(2, [apology(), payment(40_000, date(2026, 4, 1))])
    [change] = compare_versions(before, after).terms
    assert (change.change, change.kind, change.number) == (ChangeKind.changed, TermKind.restitution, 2)
    assert change.values == (
        ValueChange("amount", 60_000, 40_000, "EUR"),
        ValueChange("date", date(2026, 3, 1), date(2026, 4, 1)),
    )
    shown = shown_changes(compare_versions(before, after), "es")
    assert shown[0].title == "Cambiado: punto 2 (Pago)"
    assert [(line.label, line.before, line.after, line.wording) for line in shown[0].lines] == [
        ("Cantidad", "600,00\xa0€", "400,00\xa0€", False),
        ("Fecha", "1 de marzo de 2026", "1 de abril de 2026", False),
    ]
    english = shown_changes(compare_versions(before, after), "en")[0]
    assert english.title == "Changed: part 2 (Payment)"
    assert (english.lines[0].before, english.lines[1].after) == ("€600.00", "1 April 2026")


def test_one_instalment_of_a_plan_moved_is_named_by_its_number() -> None:
    def plan(second: date) -> RestitutionTerm:
        instalments = [
            Instalment(due_date=date(2026, 3, 1), amount_cents=100),
            Instalment(due_date=second, amount_cents=100),
        ]
        return RestitutionTerm(owed_by=DAN, currency="EUR", amount_cents=200, instalments=instalments)

    [change] = compare_versions(version(1, [plan(date(2026, 4, 1))]), version(2, [plan(date(2026, 5, 1))])).terms
    assert change.values == (ValueChange("payment_date", date(2026, 4, 1), date(2026, 5, 1), None, 2),)
    [line] = shown_changes(
        compare_versions(version(1, [plan(date(2026, 4, 1))]), version(2, [plan(date(2026, 5, 1))])), "en"
    )[0].lines
    assert line.label == "Payment 2: date"


def test_changed_wording_shows_the_old_and_new_sentences() -> None:
    before = version(1, [OtherTerm(owed_by=DAN, text="Repaint the fence.", due_date=date(2026, 3, 1))])
    after = version(2, [OtherTerm(owed_by=DAN, text="Repaint the gate.", due_date=date(2026, 3, 1))])
    [change] = compare_versions(before, after).terms
    assert change.change == ChangeKind.changed and change.values == ()
    assert "fence" in change.before and "gate" in change.after  # type: ignore[operator]
    [line] = shown_changes(compare_versions(before, after), "es")[0].lines
    assert line.wording and (line.before, line.after) == (change.before, change.after)


def test_hours_and_deadline_changed_together_are_both_listed() -> None:
    def hours(n: int, by: date) -> ServiceHoursTerm:
        return ServiceHoursTerm(owed_by=DAN, hours=n, deadline=by)

    changes = compare_versions(version(1, [hours(20, date(2026, 6, 1))]), version(2, [hours(10, date(2026, 7, 1))]))
    assert changes.terms[0].values == (
        ValueChange("hours", 20, 10),
        ValueChange("date", date(2026, 6, 1), date(2026, 7, 1)),
    )


def test_an_end_date_taken_away_reads_no_end_date() -> None:
    before = version(1, [NoContactTerm(owed_by=DAN, end_date=date(2027, 1, 1))])
    after = version(2, [NoContactTerm(owed_by=DAN)])
    [line] = shown_changes(compare_versions(before, after), "es")[0].lines
    assert (line.label, line.before, line.after) == ("Fecha de fin", "1 de enero de 2027", "Sin fecha de fin")


def test_new_names_are_shown_without_repeating_the_old_ones() -> None:
    before = version(1, [apology()], {ROSA: "Rosa García", DAN: "Dan"})
    after = version(2, [apology()], {ROSA: "R.", DAN: "Dan"})
    changes = compare_versions(before, after)
    assert changes.terms == () and changes.names == "Parties: R.; Dan" and not changes.nothing
    [shown] = shown_changes(changes, "en")
    assert shown.change == ChangeKind.names and "García" not in repr(shown)


def test_never_reviewed_an_earlier_version_is_no_list_at_all() -> None:
    current = version(2, [apology(), payment()])
    assert changes_since_review(current, []) is None
    assert changes_since_review(current, [current]) is None  # reviewing this version is not an earlier one


def test_changes_count_from_the_version_the_person_last_reviewed_not_the_one_before() -> None:
    first, second, third = version(1, [apology()]), version(2, [apology(), payment()]), version(3, [payment()])
    changes = changes_since_review(third, [first])
    assert changes is not None and changes.since == 1
    assert [(c.change, c.kind) for c in changes.terms] == [
        (ChangeKind.added, TermKind.restitution),
        (ChangeKind.removed, TermKind.apology),
    ]
    newest = changes_since_review(third, [first, second])
    assert newest is not None and newest.since == 2 and [c.change for c in newest.terms] == [ChangeKind.removed]


def test_a_term_stored_differently_but_read_the_same_is_not_a_change() -> None:
    before = version(1, [ApologyTerm(owed_by=DAN, form="written", note="Soon. ")])
    after = version(2, [ApologyTerm(owed_by=DAN, form="written", note="Soon.")])
    assert compare_versions(before, after).nothing
