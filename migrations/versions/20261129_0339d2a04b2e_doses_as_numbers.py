"""doses as numbers: ordered dose and amount given as Numeric, a reason for a confirmed mismatch

Until now an order's dose and the amount given were free text, so a dose could not be compared
with its order (a tenfold entry error, 25 mg for 2,5 mg, passed unnoticed). The text stays as
written; the numbers read from it go into new columns:
- prn_order.dose_min, prn_order.dose_max: the ordered dose or range ("2,5-5" -> 2.5, 5);
- prn_administration.amount: the amount given;
- prn_administration.dose_mismatch_reason: why a dose that differs from its order was given.

Existing rows: what can be read as a positive number (or a range of two, low to high), with a
decimal comma or point, at most 4 decimals and 8 digits before the sign, optionally followed
by the row's own unit ("2,5 mg" with unit "mg"), is copied into the numbers. Anything else keeps
its numbers empty and is shown as "dose written as text", unchecked, until a physician changes
the order. The text itself is never changed, so the downgrade loses nothing: it drops the
numbers (they can be read again) and folds a mismatch reason into over_limit_reason, marked.

The reading rules are copied here, not imported, so this revision keeps doing what it did when
the app's own parser changes.

Revision ID: 0339d2a04b2e
Revises: 57829d12c511
Create Date: 2026-11-29 10:00:00

"""
import re
from decimal import Decimal

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0339d2a04b2e'
down_revision = '57829d12c511'
branch_labels = None
depends_on = None

DOSE = sa.Numeric(precision=12, scale=4)
# Marks a reason folded into over_limit_reason on the way down.
MISMATCH_MARK = 'prn_dose_mismatch: '

_NUMBER = r'([0-9]+)(?:[.,]([0-9]+))?'
_SINGLE = re.compile(rf'\s*{_NUMBER}\s*')
_RANGE = re.compile(rf'\s*{_NUMBER}\s*[-\u2013\u2014\u2212]\s*{_NUMBER}\s*')


def _number(whole, fraction):
    fraction = (fraction or '').rstrip('0')
    whole = whole.lstrip('0') or '0'
    if len(fraction) > 4 or len(whole) > 8:
        return None
    value = Decimal(f'{whole}.{fraction}' if fraction else whole)
    return value if value > 0 else None


def _candidates(text, unit):
    """The text, and the text without the row's own unit written after the number."""
    yield text
    unit = (unit or '').strip()
    if unit:
        match = re.fullmatch(rf'(.*?)\s*{re.escape(unit)}\.?\s*', text, re.IGNORECASE)
        if match is not None:
            yield match[1]


def read_range(text, unit):
    """(low, high) for a number or a range of two, or None."""
    for candidate in _candidates(text or '', unit):
        single = _SINGLE.fullmatch(candidate)
        if single is not None:
            value = _number(single[1], single[2])
            return None if value is None else (value, value)
        pair = _RANGE.fullmatch(candidate)
        if pair is not None:
            low, high = _number(pair[1], pair[2]), _number(pair[3], pair[4])
            if low is None or high is None or high < low:
                return None
            return low, high
    return None


def read_amount(text, unit):
    """The amount for a single number, or None."""
    read = read_range(text, unit)
    return read[0] if read is not None and read[0] == read[1] else None


def upgrade():
    with op.batch_alter_table('prn_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dose_min', DOSE, nullable=True))
        batch_op.add_column(sa.Column('dose_max', DOSE, nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_prn_order_dose_range'),
            '(dose_min IS NULL AND dose_max IS NULL) OR (dose_min > 0 AND dose_max >= dose_min)',
        )
    with op.batch_alter_table('prn_administration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amount', DOSE, nullable=True))
        batch_op.add_column(sa.Column('dose_mismatch_reason', sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_prn_administration_amount_positive'), 'amount IS NULL OR amount > 0'
        )

    connection = op.get_bind()
    orders = sa.table(
        'prn_order', sa.column('id', sa.Integer), sa.column('dose', sa.String),
        sa.column('dose_unit', sa.String), sa.column('dose_min', DOSE),
        sa.column('dose_max', DOSE),
    )
    rows = connection.execute(sa.select(orders.c.id, orders.c.dose, orders.c.dose_unit)).all()
    updates = []
    for row_id, dose, unit in rows:
        read = read_range(dose, unit)
        if read is not None:
            updates.append({'row_id': row_id, 'low': read[0], 'high': read[1]})
    if updates:
        connection.execute(
            orders.update()
            .where(orders.c.id == sa.bindparam('row_id'))
            .values(dose_min=sa.bindparam('low', type_=DOSE), dose_max=sa.bindparam('high', type_=DOSE)),
            updates,
        )

    doses = sa.table(
        'prn_administration', sa.column('id', sa.Integer), sa.column('dose', sa.String),
        sa.column('dose_unit', sa.String), sa.column('amount', DOSE),
    )
    rows = connection.execute(sa.select(doses.c.id, doses.c.dose, doses.c.dose_unit)).all()
    updates = []
    for row_id, dose, unit in rows:
        amount = read_amount(dose, unit)
        if amount is not None:
            updates.append({'row_id': row_id, 'value': amount})
    if updates:
        connection.execute(
            doses.update()
            .where(doses.c.id == sa.bindparam('row_id'))
            .values(amount=sa.bindparam('value', type_=DOSE)),
            updates,
        )


def downgrade():
    # The numbers are read from the text, which stays; a mismatch reason has no column below
    # this revision, so it joins the over-limit reason, marked.
    doses = sa.table(
        'prn_administration', sa.column('over_limit_reason', sa.Text),
        sa.column('dose_mismatch_reason', sa.Text),
    )
    marked = sa.literal(MISMATCH_MARK) + doses.c.dose_mismatch_reason
    op.execute(
        doses.update()
        .where(doses.c.dose_mismatch_reason.is_not(None))
        .values(
            over_limit_reason=sa.case(
                (doses.c.over_limit_reason.is_(None), marked),
                else_=doses.c.over_limit_reason + sa.literal(' / ') + marked,
            )
        )
    )
    with op.batch_alter_table('prn_administration', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_prn_administration_amount_positive'), type_='check')
        batch_op.drop_column('dose_mismatch_reason')
        batch_op.drop_column('amount')
    with op.batch_alter_table('prn_order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_prn_order_dose_range'), type_='check')
        batch_op.drop_column('dose_max')
        batch_op.drop_column('dose_min')
