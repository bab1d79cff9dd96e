"""policy_versions: a file may come back to an earlier content as a new version in force

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 18:30:00

Going back to an earlier policy file (undoing a change) is a new version in force with the
old content: the history says when each content was in force. The unique (name, sha256)
kept it from being recorded, and the later version stayed in force. An index on the same
columns stays, for finding a content's versions.

A downgrade restores the unique constraint, which fails once a content has come back.
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_policy_versions_name_sha256', type_='unique')
        batch_op.create_index('ix_policy_versions_name', ['name', 'sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_versions_name')
        batch_op.create_unique_constraint('uq_policy_versions_name_sha256', ['name', 'sha256'])
