#!/usr/bin/env bash
# Development helper while migration 0002 is unreleased: rebuild it from the models.
set -euo pipefail
cd "$(dirname "$0")/.."
db=$(mktemp -d)/gen.db
rm -f migrations/versions/*_0002_*.py
MEND_ENV=development MEND_DATABASE_URL="sqlite:///$db" .venv/bin/alembic upgrade 0001 >/dev/null 2>&1
MEND_ENV=development MEND_DATABASE_URL="sqlite:///$db" .venv/bin/alembic revision --autogenerate \
  -m "preparation: screening, acknowledgement, safety, consent, portal, notifications" --rev-id 0002 >/dev/null 2>&1
f=$(ls migrations/versions/*_0002_*.py)
# New NOT NULL columns on existing tables need a default for the rows already there.
sed -i "s/sa.Column('safety_plan_required_at_medium', sa.Boolean(), nullable=False)/sa.Column('safety_plan_required_at_medium', sa.Boolean(), nullable=False, server_default=sa.false())/" "$f"
sed -i "s/sa.Column('portal_link_hours', sa.Integer(), nullable=False)/sa.Column('portal_link_hours', sa.Integer(), nullable=False, server_default='72')/" "$f"
sed -i "s|sa.Column('quick_exit_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False)|sa.Column('quick_exit_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False, server_default='https://www.bbc.com/weather')|" "$f"
.venv/bin/ruff format -q "$f"
echo "regenerated $f"
