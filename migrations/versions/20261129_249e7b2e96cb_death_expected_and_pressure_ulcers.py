"""death milestone: expected death and free of pressure ulcers

Two answers recorded with a death: whether it was expected (the end-of-life quality indicators
count expected deaths only, as Svenska palliativregistret does) and whether the patient was free
of pressure ulcers at death. Both are NULL (unknown) for the deaths already recorded and for
every other kind of milestone.

Downgrading cannot keep the columns, so it writes the answers of each death into the end of its
note, in a line this upgrade recognises and turns back into the columns: nothing recorded is
lost either way.

Revision ID: 249e7b2e96cb
Revises: 0339d2a04b2e
Create Date: 2026-11-29 10:00:00

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '249e7b2e96cb'
down_revision = '0339d2a04b2e'
branch_labels = None
depends_on = None

# The line a downgrade appends to a death's note (Swedish: the notes are the clinic's text).
_WORDS = {True: 'ja', False: 'nej', None: 'okänt'}
_ANSWERS = {word: value for value, word in _WORDS.items()}
_LINE = '[Väntat dödsfall: {expected}. Fri från trycksår vid dödsfallet: {free}.]'
_KEPT = re.compile(
    r'(?:\n\n)?\[Väntat dödsfall: (ja|nej|okänt)\. '
    r'Fri från trycksår vid dödsfallet: (ja|nej|okänt)\.\]\Z'
)

_milestone = sa.table(
    'milestone',
    sa.column('id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('note', sa.Text),
    sa.column('death_expected', sa.Boolean),
    sa.column('free_of_pressure_ulcers', sa.Boolean),
)


def _deaths(connection, *columns):
    return connection.execute(
        sa.select(_milestone.c.id, _milestone.c.note, *columns).where(
            _milestone.c.kind == 'death'
        )
    ).all()


def upgrade():
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('death_expected', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('free_of_pressure_ulcers', sa.Boolean(), nullable=True))
    # Answers kept in the note by a downgrade go back into their columns.
    connection = op.get_bind()
    for row in _deaths(connection):
        kept = _KEPT.search(row.note or '')
        if kept is None:
            continue
        connection.execute(
            _milestone.update()
            .where(_milestone.c.id == row.id)
            .values(
                note=row.note[: kept.start()],
                death_expected=_ANSWERS[kept.group(1)],
                free_of_pressure_ulcers=_ANSWERS[kept.group(2)],
            )
        )


def downgrade():
    connection = op.get_bind()
    for row in _deaths(
        connection, _milestone.c.death_expected, _milestone.c.free_of_pressure_ulcers
    ):
        if row.death_expected is None and row.free_of_pressure_ulcers is None:
            continue
        line = _LINE.format(
            expected=_WORDS[row.death_expected], free=_WORDS[row.free_of_pressure_ulcers]
        )
        note = f'{row.note}\n\n{line}' if row.note else line
        connection.execute(
            _milestone.update().where(_milestone.c.id == row.id).values(note=note)
        )
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_column('free_of_pressure_ulcers')
        batch_op.drop_column('death_expected')
