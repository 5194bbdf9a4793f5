"""strong authentication: OpenID Connect identities, TOTP, recovery codes, unit setting

Accounts can be bound once to an identity at an OpenID Connect provider (the provider's name
and the value of its stable claim), and can have a TOTP second factor with one-time recovery
codes (digests only). Units gain `password_alone_allowed`: off for every existing unit, so
that production staff need a second factor until an administrator says otherwise.

Revision ID: c4f1a7d2e9b3
Revises: b7e3c1a94d20
Create Date: 2026-11-29 18:40:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'c4f1a7d2e9b3'
down_revision = 'b7e3c1a94d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_provider', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('identity_claim', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('identity_bound_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_user_account_identity_provider_identity_claim'), ['identity_provider', 'identity_claim']
        )

    with op.batch_alter_table('care_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_alone_allowed', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_recovery_code_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_recovery_code_code_hash')),
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))
    op.drop_table('recovery_code')

    with op.batch_alter_table('care_unit', schema=None) as batch_op:
        batch_op.drop_column('password_alone_allowed')

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_account_identity_provider_identity_claim'), type_='unique')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('identity_bound_at')
        batch_op.drop_column('identity_claim')
        batch_op.drop_column('identity_provider')
