"""api_tokens.expires_at: an API token works for a year (or as long as it was made for)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:30:00

A token used to work until it was revoked, so one copied into a forgotten script or a
departed supplier's system kept working for ever. A token now has an end. One made before
this revision works for a year from the upgrade, so that no integration stops on the day
of the upgrade; `reviews remind` tells its owner and the administrators two weeks before.
"""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table('api_tokens', sa.column('expires_at', sa.DateTime(timezone=True)))
    a_year_on = datetime.now(timezone.utc) + timedelta(days=365)
    if op.get_bind().dialect.name == "sqlite":
        a_year_on = a_year_on.replace(tzinfo=None)   # SQLite keeps UTC as plain text
    op.execute(tokens.update().where(tokens.c.expires_at.is_(None))
               .values(expires_at=a_year_on))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
