"""The portal's fixtures (a signed-in portal client per participant), for the language journey."""

from tests.portal.conftest import portal_client_for  # noqa: F401 - a fixture, registered by being imported here
