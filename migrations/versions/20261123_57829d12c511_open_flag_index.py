"""index on open flags per patient

Today, the unit overview and the patient page ask for a patient's open flags; closed ones pile
up over the years (about one flag per assessment in benchmarks/generate.py's region), so a
partial index on the open ones keeps those lookups from reading every closed flag.

Revision ID: 57829d12c511
Revises: 544dbb4375ab
Create Date: 2026-11-23 15:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '57829d12c511'
down_revision = '544dbb4375ab'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.create_index(
            'ix_flag_open_patient', ['patient_id'], unique=False,
            postgresql_where=sa.text('closed_at IS NULL'),
            sqlite_where=sa.text('closed_at IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_flag_open_patient',
            postgresql_where=sa.text('closed_at IS NULL'),
            sqlite_where=sa.text('closed_at IS NULL'),
        )
