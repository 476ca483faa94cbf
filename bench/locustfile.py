"""The locust users of `load_bench.py` (which seeds the database and writes the plan this file reads).

MEND_LOAD_PLAN is the plan (accounts with their session, API token and the cases each may see);
MEND_LOAD_PER_USER_RATE the requests a second each mixed-phase user makes (constant_throughput,
so the whole mix runs at a fixed rate). Each run's --host is Mend or the fortunes app.

Mixed phase: PageUser, ApiReader, ApiWriter, SignInUser. Saturation: FortunesSaturation and
CaseListSaturation, with no wait between requests.
"""

import itertools
import json
import os
import random
import re
from datetime import date

from locust import FastHttpUser, HttpUser, constant, constant_throughput, task

PLAN = json.loads(open(os.environ["MEND_LOAD_PLAN"]).read())  # noqa: PTH123, SIM115 (read once at start-up)
RATE = float(os.environ.get("MEND_LOAD_PER_USER_RATE", "1"))
ACCOUNTS = PLAN["accounts"]
_next_account = itertools.count()
pick = random.Random()  # noqa: S311 (which case to ask for, not a secret)
IDLE_CONNECTION_SECONDS = 4
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class Paced:
    """Each user makes RATE requests a second (`constant_throughput`, so a slow answer does not slow the
    mix down). A user about to wait longer than the servers keep an idle connection open (uvicorn: 5 s)
    lets its connections go, as a browser would, rather than reuse one just as the server closes it."""

    pace = constant_throughput(RATE)
    client: object

    def wait_time(self) -> float:
        wait = self.pace()
        if wait > IDLE_CONNECTION_SECONDS:
            self.client.close()  # type: ignore[attr-defined]
        return wait


def _account(*roles: str) -> dict:
    """Each new user takes the next account of these roles, so the load spreads over them."""
    chosen = [a for a in ACCOUNTS if a["role"] in roles]
    return chosen[next(_next_account) % len(chosen)]


class PageUser(Paced, HttpUser):
    """A signed-in admin, facilitator or staff member browsing: case list, a case, the dashboard, an agreement."""

    weight = 10

    def on_start(self) -> None:
        self.account = _account("admin", "facilitator", "staff")
        self.client.cookies.set("mend_session", self.account["session"])

    @task(4)
    def case_list(self) -> None:
        self.get("/cases", name="page: case list")

    @task(3)
    def case_detail(self) -> None:
        self.get(f"/cases/{pick.choice(self.account['cases'])}", name="page: case detail")

    @task(2)
    def dashboard(self) -> None:
        self.get("/monitoring", name="page: monitoring dashboard")

    @task(2)
    def agreement(self) -> None:
        self.get(f"/cases/{pick.choice(self.account['agreements'])}/agreement", name="page: agreement")

    def get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")


class ApiReader(Paced, HttpUser):
    """An API client reading with a bearer token: the case list (a page of it) and a case."""

    weight = 5

    def on_start(self) -> None:
        self.account = _account("admin", "facilitator", "staff")
        self.client.headers["Authorization"] = f"Bearer {self.account['token']}"

    @task
    def list_cases(self) -> None:
        pages = max(1, len(self.account["cases"]) // 25)
        self.client.get(f"/api/v1/cases?page={pick.randint(1, pages)}", name="api: list cases")

    @task
    def read_case(self) -> None:
        self.client.get(f"/api/v1/cases/{pick.choice(self.account['cases'])}", name="api: read case")


class ApiWriter(Paced, HttpUser):
    """A facilitator's API client writing: a note on a commitment of their own cases, now and then a new case.
    Both only add rows, so a run needs no clean-up and each run starts from a fresh seed."""

    weight = 3

    def on_start(self) -> None:
        self.account = _account("facilitator")
        self.client.headers["Authorization"] = f"Bearer {self.account['token']}"

    @task(3)
    def progress_note(self) -> None:
        case_id, commitment_id = pick.choice(self.account["commitments"])
        self.client.post(
            f"/api/v1/cases/{case_id}/commitments/{commitment_id}/progress",
            json={
                "kind": "note",
                "occurred_on": date.today().isoformat(),
                "evidence_note": "Phoned to check in (load bench).",
                "notify_survivor": False,
            },
            name="api: record progress note",
        )

    @task(1)
    def open_case(self) -> None:
        self.client.post(
            "/api/v1/cases",
            json={"harm_type": "labour_trafficking", "referral_source": "ngo", "notes": "Opened by the load bench."},
            name="api: open case",
        )


class SignInUser(Paced, HttpUser):
    """Someone signing in: the form (which sets the CSRF cookie), then its POST. Two requests a task,
    so half the task rate keeps this user's request rate equal to the others'."""

    weight = 2
    pace = constant_throughput(RATE / 2)

    def on_start(self) -> None:
        self.account = _account("admin", "facilitator", "staff")

    @task
    def sign_in(self) -> None:
        self.client.cookies.clear()  # a new visitor
        with self.client.get("/login", name="sign-in: form", catch_response=True) as form:
            token = CSRF_FIELD.search(form.text or "")
            if token is None:
                form.failure(f"no sign-in form: status {form.status_code}")
                return
        with self.client.post(
            "/login",
            data={
                "email": self.account["email"],
                "password": PLAN["password"],
                "csrf_token": token.group(1),
                "next": "/cases",
            },
            allow_redirects=False,
            name="sign-in: post",
            catch_response=True,
        ) as response:
            if response.status_code != 303 or "mend_session" not in response.cookies:
                response.failure(f"sign-in refused: status {response.status_code}")


class FortunesSaturation(FastHttpUser):
    """The fortunes page as fast as it answers."""

    wait_time = constant(0)

    @task
    def fortunes(self) -> None:
        self.client.get("/fortunes", name="fortunes")


class CaseListSaturation(FastHttpUser):
    """Mend's case list page, signed in as the admin (the whole program's cases), as fast as it answers."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.cookie = f"mend_session={_account('admin')['session']}"

    @task
    def case_list(self) -> None:
        with self.client.get(
            "/cases", name="case list", headers={"Cookie": self.cookie}, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
