"""Portal pages: the responsible party's own commitments; the survivor's view of progress (only with
their consent to be told about it); the survivor's answer to a waiver they were asked about."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
