"""grants: indexes for the dashboard's figures and the review lists

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:55:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.create_index('ix_grants_status_review_due', ['status', 'review_due'],
                              unique=False)
        batch_op.create_index('ix_grants_status_level_scope_system',
                              ['status', 'access_level', 'scope', 'system_id', 'grantee_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_index('ix_grants_status_level_scope_system')
        batch_op.drop_index('ix_grants_status_review_due')
