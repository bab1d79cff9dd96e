"""outbox_messages.given_up_at: a message the mail server refused for good

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:00:00

A message the server refuses permanently (a 5xx answer: the mailbox does not exist, say)
was tried again on every run, and the 500 oldest of them held up every later message. It
is now given up at once, keeps its error as evidence, and the rest are sent.
"""
import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('given_up_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('given_up_at')
