"""Pages: the monitoring dashboard and commitment list, inline progress, a case's compliance timeline."""

from fastapi import APIRouter, Depends

from app.web import verify_csrf

router = APIRouter(tags=["monitoring pages"], dependencies=[Depends(verify_csrf)], include_in_schema=False)
