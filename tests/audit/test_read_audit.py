"""Every read that shows a confidential field leaves a read event, so the access review sees it.

The walk plants a marker in each confidential field of a case (tests/route_world.py), requests every
GET route of the pages and the API as the people who may read them, and requires a `*.read` audit
event from each request whose answer shows a marker. A new page that shows case notes or support
needs without recording the read fails here, whoever writes it.
"""

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from app.audit.models import AuditEvent
from tests.route_world import World, app_routes, build_world

CONFIDENTIAL = ("case notes", "concern", "phone", "support needs", "rationale")
READERS = ("admin", "facilitator")


@pytest.fixture(scope="module")
def world(engine):  # type: ignore[no-untyped-def]
    yield from build_world(engine)


def _read_events(world: World) -> int:
    query = select(func.count()).select_from(AuditEvent).where(col(AuditEvent.action).endswith(".read"))
    return world.db.exec(query).one()


def _walk(world: World, role: str) -> list[tuple[str, list[str], bool]]:
    """Each GET route as `role`: its path, the confidential fields it shows, and whether it left a read event."""
    client = world.clients[role]
    walked = []
    for method, path in app_routes(world.app):
        if method != "GET" or path.startswith("/static/"):
            continue
        client.cookies.clear()
        for name, value in world.cookies[role].items():
            client.cookies.set(name, value)
        with world.rolled_back():
            before = _read_events(world)
            text = client.get(f"http://testserver{world.url(path)}", follow_redirects=False).text
            shown = [name for name in CONFIDENTIAL if world.secrets[name] in text]
            walked.append((path, shown, _read_events(world) > before))
    return walked


@pytest.mark.parametrize("role", READERS)
def test_every_page_and_api_read_that_shows_a_confidential_field_is_audited(world: World, role: str) -> None:
    unaudited = [
        f"{path} shows the {', '.join(shown)}" for path, shown, audited in _walk(world, role) if shown and not audited
    ]
    assert unaudited == [], "no read event from:\n" + "\n".join(unaudited)


def test_the_walk_sees_every_confidential_field_somewhere(world: World) -> None:
    """The walk proves something only if each marker is shown by at least one route."""
    seen = {name for _, shown, _ in _walk(world, "admin") for name in shown}
    assert seen == set(CONFIDENTIAL)
