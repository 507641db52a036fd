"""Gated reviews: exit-criteria scores, versioned criteria sets and ethics templates, reviews with
their votes and ethics answers, gate overrides; level events name the review that decided them;
forks name the technology they came from.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:08:57.492779
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('criteriaset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criteriaset')),
    sa.UniqueConstraint('version', name=op.f('uq_criteriaset_version'))
    )
    op.create_table('ethicstemplate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ethicstemplate')),
    sa.UniqueConstraint('version', name=op.f('uq_ethicstemplate_version'))
    )
    op.create_table('criterionscore',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('level >= 0 AND level <= 9', name=op.f('ck_criterionscore_level')),
    sa.CheckConstraint('percent >= 0 AND percent <= 100', name=op.f('ck_criterionscore_percent')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_criterionscore_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criterionscore')),
    sa.UniqueConstraint('project_id', 'level', 'key', name='uq_criterionscore_project_level_key')
    )
    op.create_table('gateoverride',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('gate', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('justification', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_gateoverride_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateoverride'))
    )
    with op.batch_alter_table('gateoverride', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gateoverride_project_id'), ['project_id'], unique=False)

    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('opened_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('panel', sa.JSON(), nullable=False),
    sa.Column('criteria_version', sa.Integer(), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('ethics_version', sa.Integer(), nullable=False),
    sa.Column('ethics', sa.JSON(), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('decision_note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('target_level', sa.Integer(), nullable=True),
    sa.Column('switchback_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('tasks', sa.JSON(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('gates', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("decision IS NULL OR decision IN ('graduate', 'hold', 'switch back', 'pause')", name=op.f('ck_review_decision')),
    sa.CheckConstraint("status IN ('open', 'decided', 'cancelled')", name=op.f('ck_review_status')),
    sa.CheckConstraint('level >= 0 AND level <= 9', name=op.f('ck_review_level')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_review_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review'))
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index('ix_review_project_status', ['project_id', 'status'], unique=False)
        batch_op.create_index('ix_review_status_level', ['status', 'level', 'project_id', 'decided_at'], unique=False)

    op.create_table('ethicsanswer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
    sa.Column('answered_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_ethicsanswer_review_id_review')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ethicsanswer')),
    sa.UniqueConstraint('review_id', 'key', name='uq_ethicsanswer_review_key')
    )
    op.create_table('reviewvote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('voter', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('vote', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("vote IN ('graduate', 'not yet', 'switch back')", name=op.f('ck_reviewvote_vote')),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_reviewvote_review_id_review')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviewvote'))
    )
    with op.batch_alter_table('reviewvote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviewvote_review_id'), ['review_id'], unique=False)

    with op.batch_alter_table('levelevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_levelevent_review_id'), ['review_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_levelevent_review_id_review'), 'review', ['review_id'], ['id'])

    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forked_from_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('forked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_project_forked_from_id'), ['forked_from_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_project_forked_from_id_project'), 'project', ['forked_from_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_project_forked_from_id_project'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_project_forked_from_id'))
        batch_op.drop_column('forked_at')
        batch_op.drop_column('forked_from_id')

    with op.batch_alter_table('levelevent', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_levelevent_review_id_review'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_levelevent_review_id'))
        batch_op.drop_column('review_id')

    with op.batch_alter_table('reviewvote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviewvote_review_id'))

    op.drop_table('reviewvote')
    op.drop_table('ethicsanswer')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index('ix_review_status_level')
        batch_op.drop_index('ix_review_project_status')
        batch_op.drop_index(batch_op.f('ix_review_decided_at'))

    op.drop_table('review')
    with op.batch_alter_table('gateoverride', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gateoverride_project_id'))

    op.drop_table('gateoverride')
    op.drop_table('criterionscore')
    op.drop_table('ethicstemplate')
    op.drop_table('criteriaset')
