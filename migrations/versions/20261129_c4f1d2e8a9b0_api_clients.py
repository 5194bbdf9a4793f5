"""API clients: bearer credentials of EHR integrations, one unit each, and who acted in the log

An EHR integration reads a unit's patients through the read-only FHIR API with a credential a
manager of the unit issues (only its SHA-256 digest is stored). Every read is audit-logged as
that credential: audit events get the column `api_client_id`.

Revision ID: c4f1d2e8a9b0
Revises: c4a17e5d0b31
Create Date: 2026-11-29 19:00:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'c4f1d2e8a9b0'
down_revision = 'c4a17e5d0b31'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_client',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_api_client_created_by_id_user_account')),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], name=op.f('fk_api_client_revoked_by_id_user_account')),
        sa.ForeignKeyConstraint(['unit_id'], ['care_unit.id'], name=op.f('fk_api_client_unit_id_care_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_client')),
        sa.UniqueConstraint('public_id', name=op.f('uq_api_client_public_id')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_client_token_hash')),
    )
    with op.batch_alter_table('api_client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_client_unit_id'), ['unit_id'], unique=False)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_client_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_api_client_id'), ['api_client_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_audit_event_api_client_id_api_client'), 'api_client', ['api_client_id'], ['id'])


def downgrade():
    # The API's reads stay in the log without the credential's id: each keeps its detail,
    # which names the credential's public id (written by the API with every event).
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_event_api_client_id_api_client'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_event_api_client_id'))
        batch_op.drop_column('api_client_id')
    with op.batch_alter_table('api_client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_client_unit_id'))
    op.drop_table('api_client')
