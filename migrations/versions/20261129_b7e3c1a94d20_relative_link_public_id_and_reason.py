"""relative links: an opaque public id and the reason an access was ended

Patients and the care team can now end a relative's access from a page of its own: the link
gets an opaque id for its URL (existing links get one here) and keeps the reason given.

Revision ID: b7e3c1a94d20
Revises: 249e7b2e96cb
Create Date: 2026-11-29 10:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e3c1a94d20'
down_revision = '249e7b2e96cb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('relative_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('revoked_reason', sa.Text(), nullable=True))

    # Existing links get their opaque id (the same kind as the models' new_public_id).
    connection = op.get_bind()
    link = sa.table('relative_link', sa.column('id', sa.Integer), sa.column('public_id', sa.String))
    for (link_id,) in connection.execute(sa.select(link.c.id)).all():
        connection.execute(
            link.update().where(link.c.id == link_id).values(public_id=secrets.token_urlsafe(12))
        )

    with op.batch_alter_table('relative_link', schema=None) as batch_op:
        batch_op.alter_column('public_id', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_relative_link_public_id'), ['public_id'])


def downgrade():
    with op.batch_alter_table('relative_link', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_relative_link_public_id'), type_='unique')
        batch_op.drop_column('revoked_reason')
        batch_op.drop_column('public_id')
