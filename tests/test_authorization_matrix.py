"""The authorization matrix: every route of the app, taken from its router, called as each kind of person
who might reach it, against the answer this table expects.

A route missing from the table fails (a new route cannot slip through unreviewed), and so does a row
for a route that no longer exists. Denials are exact; "allowed" is never a denial and never a 5xx.
Beside the status, no response may carry a confidential value of the case to someone who may not
read it (the reference outside the program's staff; the referral notes, a safety concern, the
survivor's phone number outside the assigned facilitator and the administrator).

Roles (columns): anonymous; admin; the facilitator assigned to the case; a facilitator of the same
program who is not; program staff; the survivor and the responsible party, each in their portal
session; and an administrator of another program. Every call runs in a SAVEPOINT rolled back after it
(tests/route_world.py), with the role's CSRF token and, for writes, a minimal body.

Then the ids inside a case's address: a record of a second case of the same program (a participant, a
screening, a session, a concern, a commitment, a progress entry, a portal link), named under the first
case, is not found, even for the administrator who may see both.

Cells:
  ok   200
  w    allowed: 2xx, 303 to somewhere other than a sign-in page, 409 (a gate), 422 (the minimal body)
  L    303 to the staff sign-in page (for a GET page, /login?next=<the path>)
  P    303 to the portal's signed-out page
  401, 403, 404  exactly that (404 where the app hides that the record exists)
"""
# ruff: noqa: E501  (the table keeps one route per line)

import pytest

from tests.route_world import ROLES, World, app_routes, build_world

TABLE_TEXT = """
#      route                                                                                      anon  admin fac   unasg staff surv  resp  other
GET    /                                                                                          L     w     w     w     w     L     L     w
GET    /account/password                                                                          L     ok    ok    ok    ok    L     L     ok
POST   /account/password                                                                          L     w     w     w     w     L     L     w
GET    /account/tokens                                                                            L     ok    ok    ok    ok    L     L     ok
POST   /account/tokens                                                                            L     w     w     w     w     L     L     w
POST   /account/tokens/{token_id}/revoke                                                          L     w     404   404   404   L     L     404
GET    /admin/access-review                                                                       L     ok    403   403   403   L     L     ok
GET    /admin/access-review.csv                                                                   L     ok    403   403   403   L     L     ok
GET    /admin/audit                                                                               L     ok    403   403   403   L     L     ok
GET    /admin/audit/checkpoint                                                                    L     ok    403   403   403   L     L     ok
POST   /admin/audit/checkpoint                                                                    L     w     403   403   403   L     L     w
GET    /admin/program                                                                             L     ok    403   403   403   L     L     ok
POST   /admin/program                                                                             L     w     403   403   403   L     L     w
GET    /admin/users                                                                               L     ok    403   403   403   L     L     ok
POST   /admin/invitations                                                                         L     w     403   403   403   L     L     w
POST   /admin/invitations/{invitation_id}/cancel                                                  L     w     403   403   403   L     L     404
GET    /admin/users/new                                                                           L     ok    403   403   403   L     L     ok
GET    /admin/users/{user_id}                                                                     L     ok    403   403   403   L     L     404
POST   /admin/users/{user_id}                                                                     L     w     403   403   403   L     L     404
GET    /api/v1/access-review                                                                      401   ok    403   403   403   401   401   ok
GET    /api/v1/access-review.csv                                                                  401   ok    403   403   403   401   401   ok
GET    /api/v1/audit                                                                              401   ok    403   403   403   401   401   ok
GET    /api/v1/audit/checkpoint                                                                   401   ok    403   403   403   401   401   ok
GET    /api/v1/cases                                                                              401   ok    ok    ok    ok    401   401   ok
POST   /api/v1/cases                                                                              401   w     w     w     403   401   401   w
GET    /api/v1/cases/{case_id}                                                                    401   ok    ok    404   ok    401   401   404
PATCH  /api/v1/cases/{case_id}                                                                    401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/agreement                                                          401   ok    ok    404   ok    401   401   404
POST   /api/v1/cases/{case_id}/agreement/amendments                                               401   w     w     404   403   401   401   404
PUT    /api/v1/cases/{case_id}/agreement/draft                                                    401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/agreement/versions/{number}                                        401   ok    ok    404   ok    401   401   404
POST   /api/v1/cases/{case_id}/agreement/versions/{number}/decline                                401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/agreement/versions/{number}/diff/{other}                           401   ok    ok    404   403   401   401   404
GET    /api/v1/cases/{case_id}/agreement/versions/{number}/pdf                                    401   ok    ok    404   ok    401   401   404
POST   /api/v1/cases/{case_id}/agreement/versions/{number}/reviews                                401   w     w     404   403   401   401   404
POST   /api/v1/cases/{case_id}/agreement/versions/{number}/send-for-review                        401   w     w     404   403   401   401   404
POST   /api/v1/cases/{case_id}/agreement/versions/{number}/send-for-signature                     401   w     w     404   403   401   401   404
POST   /api/v1/cases/{case_id}/agreement/versions/{number}/signatures                             401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/audit                                                              401   ok    ok    404   403   401   401   404
POST   /api/v1/cases/{case_id}/closure                                                            401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/commitments                                                        401   ok    ok    404   ok    401   401   404
GET    /api/v1/cases/{case_id}/commitments/report.pdf                                             401   ok    ok    404   ok    401   401   404
GET    /api/v1/cases/{case_id}/commitments/{commitment_id}                                        401   ok    ok    404   ok    401   401   404
POST   /api/v1/cases/{case_id}/commitments/{commitment_id}/progress                               401   w     w     404   w     401   401   404
POST   /api/v1/cases/{case_id}/commitments/{commitment_id}/waiver                                 401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/consents                                                           401   ok    ok    404   403   401   401   404
GET    /api/v1/cases/{case_id}/journey                                                            401   ok    ok    404   ok    401   401   404
DELETE /api/v1/cases/{case_id}/legal-hold                                                         401   w     403   404   403   401   401   404
PUT    /api/v1/cases/{case_id}/legal-hold                                                         401   w     403   404   403   401   401   404
GET    /api/v1/cases/{case_id}/participants                                                       401   ok    ok    404   403   401   401   404
POST   /api/v1/cases/{case_id}/participants                                                       401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/participants/{participant_id}                                      401   ok    ok    404   403   401   401   404
PATCH  /api/v1/cases/{case_id}/participants/{participant_id}                                      401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/participants/{participant_id}/acknowledgements                     401   ok    ok    404   403   401   401   404
POST   /api/v1/cases/{case_id}/participants/{participant_id}/acknowledgements                     401   w     w     404   403   401   401   404
POST   /api/v1/cases/{case_id}/participants/{participant_id}/consents                             401   w     w     404   403   401   401   404
POST   /api/v1/cases/{case_id}/participants/{participant_id}/consents/{scope}/withdraw            401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/participants/{participant_id}/contact-preferences                  401   ok    ok    404   403   401   401   404
PUT    /api/v1/cases/{case_id}/participants/{participant_id}/contact-preferences                  401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/participants/{participant_id}/portal-links                         401   ok    ok    404   403   401   401   404
POST   /api/v1/cases/{case_id}/participants/{participant_id}/portal-links                         401   w     w     404   403   401   401   404
POST   /api/v1/cases/{case_id}/participants/{participant_id}/portal-links/send                    401   w     w     404   403   401   401   404
POST   /api/v1/cases/{case_id}/participants/{participant_id}/portal-links/{link_id}/revoke        401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/participants/{participant_id}/screenings                           401   ok    ok    404   403   401   401   404
POST   /api/v1/cases/{case_id}/participants/{participant_id}/screenings                           401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/participants/{participant_id}/screenings/{screening_id}            401   ok    ok    404   403   401   401   404
POST   /api/v1/cases/{case_id}/progress/{entry_id}/correction                                     401   w     w     404   w     401   401   404
GET    /api/v1/cases/{case_id}/safety/assessments                                                 401   ok    ok    404   403   401   401   404
POST   /api/v1/cases/{case_id}/safety/assessments                                                 401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/safety/concerns                                                    401   ok    ok    404   403   401   401   404
POST   /api/v1/cases/{case_id}/safety/concerns                                                    401   w     w     404   403   401   401   404
POST   /api/v1/cases/{case_id}/safety/concerns/{concern_id}/review                                401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/safety/plan                                                        401   ok    ok    404   403   401   401   404
PUT    /api/v1/cases/{case_id}/safety/plan                                                        401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/safety/plan/versions                                               401   ok    ok    404   403   401   401   404
GET    /api/v1/cases/{case_id}/sessions                                                           401   ok    ok    404   403   401   401   404
POST   /api/v1/cases/{case_id}/sessions                                                           401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/sessions/{session_id}                                              401   ok    ok    404   403   401   401   404
PATCH  /api/v1/cases/{case_id}/sessions/{session_id}                                              401   w     w     404   403   401   401   404
GET    /api/v1/cases/{case_id}/sessions/{session_id}/attendees/{participant_id}/invitation.ics    401   ok    ok    404   403   401   401   404
POST   /api/v1/cases/{case_id}/sessions/{session_id}/cancel                                       401   w     w     404   403   401   401   404
POST   /api/v1/cases/{case_id}/sessions/{session_id}/held                                         401   w     w     404   403   401   401   404
GET    /api/v1/commitments                                                                        401   ok    ok    ok    ok    401   401   ok
GET    /api/v1/commitments.csv                                                                    401   ok    ok    ok    ok    401   401   ok
GET    /api/v1/information-sheets/{version}/{language}                                            401   ok    ok    ok    ok    401   401   ok
GET    /api/v1/instruments/{role}                                                                 401   ok    ok    ok    ok    401   401   ok
GET    /api/v1/me                                                                                 401   ok    ok    ok    ok    401   401   ok
POST   /api/v1/me/password                                                                        401   w     w     w     w     401   401   w
GET    /api/v1/monitoring/counts                                                                  401   ok    ok    ok    ok    401   401   ok
GET    /api/v1/monitoring/trends                                                                  401   ok    ok    ok    ok    401   401   ok
GET    /api/v1/openapi.json                                                                       ok    ok    ok    ok    ok    ok    ok    ok
HEAD   /api/v1/openapi.json                                                                       ok    ok    ok    ok    ok    ok    ok    ok
GET    /api/v1/portal/agreement                                                                   401   401   401   401   401   ok    ok    401
POST   /api/v1/portal/agreement/decline                                                           401   401   401   401   401   w     w     401
GET    /api/v1/portal/agreement/pdf                                                               401   401   401   401   401   ok    ok    401
POST   /api/v1/portal/agreement/review                                                            401   401   401   401   401   w     w     401
POST   /api/v1/portal/agreement/sign                                                              401   401   401   401   401   w     w     401
GET    /api/v1/portal/commitments                                                                 401   401   401   401   401   ok    ok    401
POST   /api/v1/portal/consents/{scope}                                                            401   401   401   401   401   w     w     401
POST   /api/v1/portal/consents/{scope}/withdraw                                                   401   401   401   401   401   w     w     401
GET    /api/v1/portal/me                                                                          401   401   401   401   401   ok    ok    401
POST   /api/v1/portal/waivers/{waiver_id}/answer                                                  401   401   401   401   401   w     404   401
GET    /api/v1/program                                                                            401   ok    ok    ok    ok    401   401   ok
PATCH  /api/v1/program                                                                            401   w     403   403   403   401   401   w
GET    /api/v1/safety/risk-factors                                                                401   ok    ok    ok    ok    401   401   ok
GET    /api/v1/schedule/week                                                                      401   ok    ok    ok    403   401   401   ok
GET    /api/v1/tokens                                                                             401   ok    ok    ok    ok    401   401   ok
POST   /api/v1/tokens                                                                             401   w     w     w     w     401   401   w
DELETE /api/v1/tokens/{token_id}                                                                  401   w     404   404   404   401   401   404
GET    /api/v1/invitations                                                                        401   ok    403   403   403   401   401   ok
POST   /api/v1/invitations                                                                        401   w     403   403   403   401   401   w
DELETE /api/v1/invitations/{invitation_id}                                                        401   w     403   403   403   401   401   404
GET    /api/v1/users                                                                              401   ok    403   403   403   401   401   ok
PATCH  /api/v1/users/{user_id}                                                                    401   w     403   403   403   401   401   404
GET    /cases                                                                                     L     ok    ok    ok    ok    L     L     ok
POST   /cases                                                                                     L     w     w     w     403   L     L     w
GET    /cases/new                                                                                 L     ok    ok    ok    403   L     L     ok
GET    /cases/{case_id}                                                                           L     ok    ok    404   ok    L     L     404
POST   /cases/{case_id}                                                                           L     w     w     404   403   L     L     404
GET    /cases/{case_id}/agreement                                                                 L     ok    ok    404   ok    L     L     404
GET    /cases/{case_id}/agreement/amend                                                           L     w     w     404   403   L     L     404
POST   /cases/{case_id}/agreement/amend                                                           L     w     w     404   403   L     L     404
GET    /cases/{case_id}/agreement/diff                                                            L     ok    ok    404   ok    L     L     404
GET    /cases/{case_id}/agreement/edit                                                            L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/agreement/edit                                                            L     w     w     404   403   L     L     404
POST   /cases/{case_id}/agreement/preview                                                         L     w     w     404   403   L     L     404
GET    /cases/{case_id}/agreement/versions/{number}                                               L     ok    ok    404   ok    L     L     404
POST   /cases/{case_id}/agreement/versions/{number}/decline                                       L     w     w     404   403   L     L     404
GET    /cases/{case_id}/agreement/versions/{number}/pdf                                           L     ok    ok    404   ok    L     L     404
POST   /cases/{case_id}/agreement/versions/{number}/reviews                                       L     w     w     404   403   L     L     404
POST   /cases/{case_id}/agreement/versions/{number}/send-for-review                               L     w     w     404   403   L     L     404
POST   /cases/{case_id}/agreement/versions/{number}/send-for-signature                            L     w     w     404   403   L     L     404
POST   /cases/{case_id}/agreement/versions/{number}/signatures                                    L     w     w     404   403   L     L     404
GET    /cases/{case_id}/audit                                                                     L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/closure                                                                   L     w     w     404   403   L     L     404
GET    /cases/{case_id}/commitments                                                               L     ok    ok    404   ok    L     L     404
GET    /cases/{case_id}/commitments/report.pdf                                                    L     ok    ok    404   ok    L     L     404
POST   /cases/{case_id}/commitments/{commitment_id}/progress                                      L     w     w     404   w     L     L     404
GET    /cases/{case_id}/commitments/{commitment_id}/progress/new                                  L     ok    ok    404   ok    L     L     404
GET    /cases/{case_id}/commitments/{commitment_id}/row                                           L     w     w     404   w     L     L     404
POST   /cases/{case_id}/commitments/{commitment_id}/waiver                                        L     w     w     404   403   L     L     404
GET    /cases/{case_id}/consent                                                                   L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/consent                                                                   L     w     w     404   403   L     L     404
GET    /cases/{case_id}/edit                                                                      L     ok    ok    404   403   L     L     404
GET    /cases/{case_id}/information-sheet                                                         L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/legal-hold                                                                L     w     403   404   403   L     L     404
POST   /cases/{case_id}/legal-hold/clear                                                          L     w     403   404   403   L     L     404
POST   /cases/{case_id}/participants                                                              L     w     w     404   403   L     L     404
GET    /cases/{case_id}/participants/new                                                          L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/participants/{participant_id}                                             L     w     w     404   403   L     L     404
GET    /cases/{case_id}/participants/{participant_id}/acknowledgement                             L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/participants/{participant_id}/acknowledgement                             L     w     w     404   403   L     L     404
POST   /cases/{case_id}/participants/{participant_id}/consents/{scope}/withdraw                   L     w     w     404   403   L     L     404
GET    /cases/{case_id}/participants/{participant_id}/contact                                     L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/participants/{participant_id}/contact                                     L     w     w     404   403   L     L     404
GET    /cases/{case_id}/participants/{participant_id}/edit                                        L     ok    ok    404   403   L     L     404
GET    /cases/{case_id}/participants/{participant_id}/portal                                      L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/participants/{participant_id}/portal-links                                L     w     w     404   403   L     L     404
POST   /cases/{case_id}/participants/{participant_id}/portal-links/send                           L     w     w     404   403   L     L     404
POST   /cases/{case_id}/participants/{participant_id}/portal-links/{link_id}/revoke               L     w     w     404   403   L     L     404
GET    /cases/{case_id}/participants/{participant_id}/screening                                   L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/participants/{participant_id}/screening                                   L     w     w     404   403   L     L     404
GET    /cases/{case_id}/participants/{participant_id}/screening/{screening_id}                    L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/progress/{entry_id}/correction                                            L     w     w     404   w     L     L     404
GET    /cases/{case_id}/safety                                                                    L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/safety/assessments                                                        L     w     w     404   403   L     L     404
POST   /cases/{case_id}/safety/concerns                                                           L     w     w     404   403   L     L     404
POST   /cases/{case_id}/safety/concerns/{concern_id}/review                                       L     w     w     404   403   L     L     404
GET    /cases/{case_id}/safety/plan                                                               L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/safety/plan                                                               L     w     w     404   403   L     L     404
POST   /cases/{case_id}/safety/preview                                                            L     w     w     404   403   L     L     404
GET    /cases/{case_id}/sessions                                                                  L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/sessions                                                                  L     w     w     404   403   L     L     404
GET    /cases/{case_id}/sessions/new                                                              L     ok    ok    404   403   L     L     404
GET    /cases/{case_id}/sessions/{session_id}                                                     L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/sessions/{session_id}/cancel                                              L     w     w     404   403   L     L     404
GET    /cases/{case_id}/sessions/{session_id}/edit                                                L     ok    ok    404   403   L     L     404
POST   /cases/{case_id}/sessions/{session_id}/edit                                                L     w     w     404   403   L     L     404
POST   /cases/{case_id}/sessions/{session_id}/held                                                L     w     w     404   403   L     L     404
GET    /favicon.ico                                                                               ok    ok    ok    ok    ok    ok    ok    ok
GET    /login                                                                                     ok    ok    ok    ok    ok    ok    ok    ok
POST   /login                                                                                     w     w     w     w     w     w     w     w
POST   /logout                                                                                    L     L     L     L     L     L     L     L
GET    /monitoring                                                                                L     ok    ok    ok    ok    L     L     ok
GET    /monitoring/commitments.csv                                                                L     ok    ok    ok    ok    L     L     ok
GET    /portal                                                                                    P     P     P     P     P     ok    ok    P
GET    /portal/agreement                                                                          P     P     P     P     P     ok    ok    P
POST   /portal/agreement/decline                                                                  P     P     P     P     P     w     w     P
GET    /portal/agreement/pdf                                                                      P     P     P     P     P     ok    ok    P
POST   /portal/agreement/review                                                                   P     P     P     P     P     w     w     P
POST   /portal/agreement/sign                                                                     P     P     P     P     P     w     w     P
GET    /portal/commitments                                                                        P     P     P     P     P     ok    ok    P
GET    /portal/consent                                                                            P     P     P     P     P     ok    ok    P
GET    /portal/consent/{scope}                                                                    P     P     P     P     P     w     w     P
POST   /portal/consent/{scope}                                                                    P     P     P     P     P     w     w     P
GET    /portal/consent/{scope}/stopped                                                            P     P     P     P     P     w     w     P
GET    /portal/consent/{scope}/withdraw                                                           P     P     P     P     P     ok    ok    P
POST   /portal/consent/{scope}/withdraw                                                           P     P     P     P     P     w     w     P
GET    /portal/enter/{token}                                                                      ok    ok    ok    ok    ok    ok    ok    ok
POST   /portal/enter/{token}                                                                      w     w     w     w     w     w     w     w
GET    /portal/exit                                                                               w     w     w     w     w     w     w     w
POST   /portal/exit                                                                               w     w     w     w     w     w     w     w
GET    /portal/information                                                                        P     P     P     P     P     ok    ok    P
POST   /portal/sign-out                                                                           P     P     P     P     P     P     P     P
GET    /portal/signed-out                                                                         ok    ok    ok    ok    ok    ok    ok    ok
POST   /portal/waivers/{waiver_id}                                                                P     P     P     P     P     w     404   P
GET    /schedule/week                                                                             L     ok    ok    ok    403   L     L     ok
POST   /session/extend                                                                            L     w     w     w     w     L     L     w
GET    /invite/{token}                                                                            404   404   404   404   404   404   404   404
POST   /invite/{token}                                                                            404   404   404   404   404   404   404   404
GET    /setup/{token}                                                                             404   404   404   404   404   404   404   404
POST   /setup/{token}                                                                             w     w     w     w     w     w     w     w
GET    /static/{path}                                                                             ok    ok    ok    ok    ok    ok    ok    ok
"""

ALLOWED = frozenset({200, 201, 202, 204, 303, 409, 422})
DENIAL_PAGES = ("/login", "/portal/signed-out")
# Which roles may read each confidential value of the world's case (tests/route_world.py).
MAY_READ = {
    "reference": {"admin", "facilitator", "staff"},
    "case notes": {"admin", "facilitator"},
    "concern": {"admin", "facilitator"},
    "phone": {"admin", "facilitator"},
    "support needs": {"admin", "facilitator"},
    "rationale": {"admin", "facilitator"},
}
# Bodies that get past validation, where the permission check comes after it.
BODIES = {
    ("PUT", "/api/v1/cases/{case_id}/legal-hold"): {"reason": "A pending civil claim."},
    ("POST", "/api/v1/invitations"): {
        "email": "new.colleague@example.org",
        "full_name": "New Colleague",
        "role": "staff",
    },
    ("POST", "/admin/invitations"): {
        "email": "new.colleague@example.org",
        "full_name": "New Colleague",
        "role": "staff",
    },
    ("POST", "/api/v1/cases"): {"harm_type": "labour_trafficking", "referral_source": "court"},
    ("POST", "/cases"): {"harm_type": "labour_trafficking", "referral_source": "court"},
    ("POST", "/api/v1/portal/waivers/{waiver_id}/answer"): {"agree": False},
    ("POST", "/portal/waivers/{waiver_id}"): {"agree": "no"},
}


def _table() -> dict[tuple[str, str], tuple[str, ...]]:
    rows: dict[tuple[str, str], tuple[str, ...]] = {}
    for line in TABLE_TEXT.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        method, path, *cells = line.split()
        assert len(cells) == len(ROLES), f"{method} {path}: {len(cells)} cells for {len(ROLES)} roles"
        assert (method, path) not in rows, f"{method} {path} is in the table twice"
        rows[(method, path)] = tuple(cells)
    return rows


TABLE = _table()


def _routes() -> list[tuple[str, str]]:
    from app.main import create_app

    return app_routes(create_app())


@pytest.fixture(scope="module")
def world(engine):  # type: ignore[no-untyped-def]
    yield from build_world(engine)


def test_the_table_has_a_row_for_every_route_and_none_for_a_route_that_is_gone(world: World) -> None:
    routes = set(app_routes(world.app))
    assert sorted(routes - TABLE.keys()) == [], "routes without a row in the table: add one, reviewed"
    assert sorted(TABLE.keys() - routes) == [], "rows for routes that no longer exist: remove them"
    # The router expansion misses nothing the OpenAPI document (built by FastAPI itself) lists.
    documented = {
        (method.upper(), path)
        for path, operations in world.app.openapi()["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert documented <= routes, sorted(documented - routes)
    assert len(routes) > 150


def _verdict(cell: str, method: str, path: str, status: int, location: str) -> bool:
    if cell == "ok":
        return status == 200
    if cell == "w":
        return status in ALLOWED and not (status == 303 and location.startswith(DENIAL_PAGES))
    if cell == "L":
        return status == 303 and location in ("/login", "/login?next=" + path if method == "GET" else "/login")
    if cell == "P":
        return status == 303 and location.startswith("/portal/signed-out")
    return status == int(cell)


@pytest.mark.parametrize(("method", "path"), _routes(), ids=lambda value: value)
def test_every_role_gets_the_answer_the_table_expects(world: World, method: str, path: str) -> None:
    assert (method, path) in TABLE, f"{method} {path} has no row in the authorization table: add one, reviewed"
    # The acknowledgement is the responsible party's; every other participant route is called for the survivor.
    overrides = {"participant_id": world.params["responsible_id"]} if "acknowledgement" in path else {}
    wrong: list[str] = []
    for role, cell in zip(ROLES, TABLE[(method, path)], strict=True):
        response = world.call(role, method, path, body=BODIES.get((method, path)), **overrides)
        location = response.headers.get("location", "")
        url_path = world.url(path, **overrides)
        if not _verdict(cell, method, url_path, response.status_code, location):
            wrong.append(f"{role}: expected {cell}, got {response.status_code} {location}".rstrip())
        for name, value in world.secrets.items():
            if role not in MAY_READ[name] and value in response.text:
                wrong.append(f"{role}: the response shows the case's {name}")
    assert wrong == [], f"{method} {path}\n  " + "\n  ".join(wrong)


# The ids in a case's routes that name a record of that case.
CASE_RECORD_IDS = ("participant_id", "screening_id", "session_id", "concern_id", "commitment_id", "entry_id", "link_id")
MIXED = [
    (method, path, name)
    for method, path in _routes()
    if "{case_id}" in path
    for name in CASE_RECORD_IDS
    if "{" + name + "}" in path
]


@pytest.mark.parametrize(("method", "path", "name"), MIXED, ids=lambda value: value)
def test_a_record_of_another_case_is_not_found_under_this_one(world: World, method: str, path: str, name: str) -> None:
    """The administrator sees both cases of the program, yet a record of the second case, named under the
    first case's address, is not found: no route trusts an id without checking it belongs to the case."""
    own = {"participant_id": world.params["responsible_id"]} if "acknowledgement" in path else {}
    foreign = world.foreign["responsible_id"] if name == "participant_id" and own else world.foreign[name]
    response = world.call("admin", method, path, body=BODIES.get((method, path)), **(own | {name: foreign}))
    assert response.status_code == 404, (
        f"{method} {world.url(path, **(own | {name: foreign}))}: {response.status_code} {response.text[:300]}"
    )


def test_a_portal_session_cannot_answer_another_cases_waiver(world: World) -> None:
    for path in ("/api/v1/portal/waivers/{waiver_id}/answer", "/portal/waivers/{waiver_id}"):
        response = world.call(
            "survivor", "POST", path, body=BODIES[("POST", path)], waiver_id=world.foreign["waiver_id"]
        )
        assert response.status_code == 404, f"{path}: {response.status_code}"
