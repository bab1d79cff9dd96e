"""acknowledgement lookup by employee and date

The DPO dashboard and the re-evaluation ask, for every live grant, whether its grantee
has acknowledged the principles since a date. With (employee_id, acknowledged_at) that
is answered from the index alone; measured with bench/run.py at municipal scale (50,000
grants) it takes the dashboard's unacknowledged count on SQLite from about 155 ms to
about 30-60 ms. The index keeps the name the naming convention gives it (after its first
column), so it replaces the single-column index on employee_id.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acknowledgements_employee_id'))
        batch_op.create_index(batch_op.f('ix_acknowledgements_employee_id'),
                              ['employee_id', 'acknowledged_at'], unique=False)


def downgrade():
    with op.batch_alter_table('acknowledgements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acknowledgements_employee_id'))
        batch_op.create_index(batch_op.f('ix_acknowledgements_employee_id'), ['employee_id'],
                              unique=False)
