"""JSON API under /api/v1: dashboard counts, the commitment list and CSV, progress, corrections,
waivers, case closure and the follow-up report."""

from fastapi import APIRouter, Depends

from app.web import verify_csrf

router = APIRouter(prefix="/api/v1", tags=["monitoring"], dependencies=[Depends(verify_csrf)])
