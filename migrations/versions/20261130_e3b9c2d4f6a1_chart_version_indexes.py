"""indexes for the chart validator, the chart's audit grouping and the latest ratings

Every chart image asks for the patient's data version (review.chartcache) and whether the user
viewed the trends page in the last minutes (audit.viewed_recently). The version is counted
from the index alone with (patient_id, id) for ratings and (patient_id, id, evaluated_at) for
doses; (patient_id, id) replaces the index on patient_id alone (the same size: the id fills
what was padding). The audit question read every event of every user of the last ten minutes
through the index on `at`; (patient_id, user_id, at) finds the few of this user and patient,
and replaces the index on patient_id alone.

The latest current rating of an instrument is found by walking (patient_id, instrument,
observed_at) from its newest end, ordered by observed_at and then id (two ratings at the same
moment: the newer id). Without the id in the index PostgreSQL sorted every lookup (an
Incremental Sort reading the ties of the newest moment and one more row); the unit overview
makes one lookup per patient and instrument (600 at 120 patients). (patient_id, instrument,
observed_at, id) gives that order itself and replaces the index without the id: every query
that used it (a range of moments, the newest moment of an instrument) reads the same prefix.

On PostgreSQL the indexes are built and dropped CONCURRENTLY, outside the migration's
transaction: a plain CREATE INDEX would hold back every write to audit_event (every audited
request) while it reads the whole table. Code of the previous release works with either set of
indexes (a rolling upgrade, docs/operations.md).

Revision ID: e3b9c2d4f6a1
Revises: d8a3b5c7e1f2
Create Date: 2026-11-30 12:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e3b9c2d4f6a1'
down_revision = 'd8a3b5c7e1f2'
branch_labels = None
depends_on = None


# (table, index, columns): the new indexes, and those they replace.
NEW = (
    ('assessment', 'ix_assessment_patient_id_id', ['patient_id', 'id']),
    ('prn_administration', 'ix_prn_administration_patient_version',
     ['patient_id', 'id', 'evaluated_at']),
    ('audit_event', 'ix_audit_event_patient_user_at', ['patient_id', 'user_id', 'at']),
    ('assessment', 'ix_assessment_patient_instrument_observed_id',
     ['patient_id', 'instrument', 'observed_at', 'id']),
)
REPLACED = (
    ('assessment', 'ix_assessment_patient_id', ['patient_id']),
    ('audit_event', 'ix_audit_event_patient_id', ['patient_id']),
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
