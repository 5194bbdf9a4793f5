"""the subscales and ROAG's highest grade of each rating as generated columns

The trends page and its chart images read the subscales and ROAG's highest grade of every rating
in the range: 467 ratings over a three-year stay. Picking them out of `scores` made PostgreSQL
parse each whole stored document (mostly its item bands) for two small parts: 1.6 of the
statement's 2.1 ms. `chart_subscales` and `chart_max_grade` are those parts, kept by the
database itself from `scores` (generated columns: the app never writes them, and a stored
assessment stays as it was signed). On PostgreSQL they are STORED, the subscales as jsonb,
whose members are read without parsing (0.33 ms for the same statement); SQLite computes them
when read (VIRTUAL), as it can add no stored column to a table, and the app reads `scores`
there as before.

On PostgreSQL adding a stored generated column rewrites the table under an exclusive lock:
every read and write of `assessment` waits until it is done (0.4 s for 480,000 ratings on the
build machine; docs/operations.md). Code of the previous release works with or without the
columns.

Revision ID: f5c8a1d3e7b2
Revises: e3b9c2d4f6a1
Create Date: 2026-11-30 18:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB


# revision identifiers, used by Alembic.
revision = 'f5c8a1d3e7b2'
down_revision = 'e3b9c2d4f6a1'
branch_labels = None
depends_on = None


# (column, key in scores, binary on PostgreSQL: jsonb, whose members are read without parsing)
COLUMNS = (('chart_subscales', 'subscales', True), ('chart_max_grade', 'max_grade', False))


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for name, key, binary in COLUMNS:
        if postgresql:
            kind = JSONB() if binary else sa.JSON()
            expression = f"(scores -> '{key}')::jsonb" if binary else f"scores -> '{key}'"
        else:
            kind = sa.JSON()
            expression = f"json_quote(json_extract(scores, '$.{key}'))"
        op.add_column('assessment', sa.Column(
            name, kind, sa.Computed(expression, persisted=postgresql or None), nullable=True,
        ))


def downgrade():
    for name, _key, _binary in reversed(COLUMNS):
        op.drop_column('assessment', name)
