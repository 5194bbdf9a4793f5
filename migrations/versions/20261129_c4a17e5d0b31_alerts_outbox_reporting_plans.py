"""alerts, the outbox, reporting plans, coverage hours and reminder opt-out

High flags from self-reports become alerts (unless staff marked the level as expected for a
while) routed by each unit's coverage hours; messages go
through an outbox with a unique key (sent once, however many jobs run); patients may get their
own reporting plan; patients and relatives may turn e-mail reminders off. Existing units get no
coverage hours (no promise of an answer until a unit configures one) and a 60-minute response
time.

Revision ID: c4a17e5d0b31
Revises: c4f1a7d2e9b3
Create Date: 2026-11-29 19:00:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'c4a17e5d0b31'
down_revision = 'c4f1a7d2e9b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('care_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coverage_weekdays', sa.String(length=7), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('coverage_start', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('coverage_end', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('alert_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('escalation_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('alert_response_minutes', sa.Integer(), nullable=False, server_default='60'))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_opt_out', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        'alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('flag_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('in_coverage', sa.Boolean(), nullable=False),
        sa.Column('respond_by', sa.DateTime(timezone=True), nullable=True),
        sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
        sa.Column('repeats', sa.Integer(), nullable=False),
        sa.Column('last_repeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['acknowledged_by_id'], ['user_account.id'], name=op.f('fk_alert_acknowledged_by_id_user_account')),
        sa.ForeignKeyConstraint(['flag_id'], ['flag.id'], name=op.f('fk_alert_flag_id_flag')),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_alert_patient_id_patient')),
        sa.ForeignKeyConstraint(['unit_id'], ['care_unit.id'], name=op.f('fk_alert_unit_id_care_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert')),
        sa.UniqueConstraint('flag_id', 'unit_id', name=op.f('uq_alert_flag_id_unit_id')),
        sa.UniqueConstraint('public_id', name=op.f('uq_alert_public_id')),
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_flag_id'), ['flag_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_unit_id'), ['unit_id'], unique=False)

    op.create_table(
        'outbox_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=160), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('alert_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=254), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_outbox_message_alert_id_alert')),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_outbox_message_patient_id_patient')),
        sa.ForeignKeyConstraint(['unit_id'], ['care_unit.id'], name=op.f('fk_outbox_message_unit_id_care_unit')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_outbox_message_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
        sa.UniqueConstraint('key', name=op.f('uq_outbox_message_key')),
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_status_next', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_unit_id'), ['unit_id'], unique=False)

    op.create_table(
        'reporting_plan_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('phase', sa.String(length=20), nullable=False),
        sa.Column('instrument', sa.String(length=20), nullable=False),
        sa.Column('respondent', sa.String(length=10), nullable=False),
        sa.Column('interval_days', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('set_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_reporting_plan_entry_patient_id_patient')),
        sa.ForeignKeyConstraint(['set_by_id'], ['user_account.id'], name=op.f('fk_reporting_plan_entry_set_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reporting_plan_entry')),
    )
    with op.batch_alter_table('reporting_plan_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reporting_plan_entry_patient_id'), ['patient_id'], unique=False)

    op.create_table(
        'expected_level',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('instrument', sa.String(length=20), nullable=False),
        sa.Column('item', sa.String(length=40), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('set_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['ended_by_id'], ['user_account.id'], name=op.f('fk_expected_level_ended_by_id_user_account')),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_expected_level_patient_id_patient')),
        sa.ForeignKeyConstraint(['set_by_id'], ['user_account.id'], name=op.f('fk_expected_level_set_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_expected_level')),
        sa.UniqueConstraint('public_id', name=op.f('uq_expected_level_public_id')),
    )
    with op.batch_alter_table('expected_level', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expected_level_patient_id'), ['patient_id'], unique=False)


def downgrade():
    op.drop_table('expected_level')
    op.drop_table('reporting_plan_entry')
    op.drop_table('outbox_message')
    op.drop_table('alert')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('reminders_opt_out')
    with op.batch_alter_table('care_unit', schema=None) as batch_op:
        batch_op.drop_column('alert_response_minutes')
        batch_op.drop_column('escalation_email')
        batch_op.drop_column('alert_email')
        batch_op.drop_column('coverage_end')
        batch_op.drop_column('coverage_start')
        batch_op.drop_column('coverage_weekdays')
