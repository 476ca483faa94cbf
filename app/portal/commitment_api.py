"""JSON API for the portal: the person's own commitments and progress, and a survivor's waiver answers."""

from fastapi import APIRouter, Depends

from app.portal.dependencies import verify_portal_csrf
from app.web import verify_csrf

router = APIRouter(
    prefix="/api/v1/portal", tags=["portal"], dependencies=[Depends(verify_csrf), Depends(verify_portal_csrf)]
)
