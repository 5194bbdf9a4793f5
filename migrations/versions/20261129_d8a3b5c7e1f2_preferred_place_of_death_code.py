"""care plans: the preferred place of death also as one of the places a death is recorded at

Svenska palliativregistret asks whether the person died where they wished. The care plan keeps
the wish in words (`preferred_place_of_death`) and now also as a choice of the places of death
(`preferred_place_of_death_code`, "" when not chosen), so the answer can be read. Existing
versions get "" (not chosen): their words are kept as they were.

Revision ID: d8a3b5c7e1f2
Revises: c4f1d2e8a9b0
Create Date: 2026-11-29 19:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd8a3b5c7e1f2'
down_revision = 'c4f1d2e8a9b0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('care_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_place_of_death_code', sa.String(length=20), nullable=True))
    care_plan = sa.table('care_plan', sa.column('preferred_place_of_death_code', sa.String))
    op.get_bind().execute(care_plan.update().values(preferred_place_of_death_code=''))
    with op.batch_alter_table('care_plan', schema=None) as batch_op:
        batch_op.alter_column('preferred_place_of_death_code', existing_type=sa.String(length=20), nullable=False)


def downgrade():
    # The choice is dropped; the wish in words, which every version has had, stays.
    with op.batch_alter_table('care_plan', schema=None) as batch_op:
        batch_op.drop_column('preferred_place_of_death_code')
