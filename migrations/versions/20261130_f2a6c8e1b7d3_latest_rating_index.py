"""the index of the latest ratings in the order they are read

The latest current rating of an instrument is found by walking (patient_id, instrument,
observed_at) from its newest end, ordered by observed_at and then id (two ratings at the same
moment: the newer id). Without the id in the index PostgreSQL sorted every lookup (an
Incremental Sort reading the ties of the newest moment and one more row); the unit overview
makes one lookup per patient and instrument (600 at 120 patients). (patient_id, instrument,
observed_at, id) gives that order itself and replaces the index without the id: every query
that used it (a range of moments, the newest moment of an instrument) reads the same prefix.

On PostgreSQL the index is built and the old one dropped CONCURRENTLY, outside the migration's
transaction: a plain CREATE INDEX would hold back every new rating while it reads the table.
Code of the previous release works with either index (a rolling upgrade, docs/operations.md).

Revision ID: f2a6c8e1b7d3
Revises: e3b9c2d4f6a1
Create Date: 2026-11-30 13:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f2a6c8e1b7d3'
down_revision = 'e3b9c2d4f6a1'
branch_labels = None
depends_on = None


# (table, index, columns): the new index, and the one it replaces.
NEW = (
    ('assessment', 'ix_assessment_patient_instrument_observed_id',
     ['patient_id', 'instrument', 'observed_at', 'id']),
)
REPLACED = (
    ('assessment', 'ix_assessment_patient_instrument_observed',
     ['patient_id', 'instrument', 'observed_at']),
)


def _swap(create, drop):
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            for table, name, columns in create:
                op.create_index(name, table, columns, unique=False, postgresql_concurrently=True)
            for table, name, _ in drop:
                op.drop_index(name, table_name=table, postgresql_concurrently=True)
        return
    for table, name, columns in create:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)
    for table, name, _ in drop:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)


def upgrade():
    _swap(NEW, REPLACED)


def downgrade():
    _swap(REPLACED, NEW)
