"""OKRs: objectives of a quarter ("2027-Q1"), their key results ("technology X reaches level
>= L by date D", D a calendar day) and the owners' check-ins on them (append-only).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:32:42.290657
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('objective',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quarter', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('copied_from_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("quarter LIKE '____-Q_'", name=op.f('ck_objective_quarter')),
    sa.ForeignKeyConstraint(['copied_from_id'], ['objective.id'], name=op.f('fk_objective_copied_from_id_objective')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objective'))
    )
    with op.batch_alter_table('objective', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objective_copied_from_id'), ['copied_from_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objective_quarter'), ['quarter'], unique=False)

    op.create_table('keyresult',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('target_level', sa.Integer(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('target_level >= 0 AND target_level <= 9', name=op.f('ck_keyresult_target_level')),
    sa.ForeignKeyConstraint(['objective_id'], ['objective.id'], name=op.f('fk_keyresult_objective_id_objective')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_keyresult_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_keyresult')),
    sa.UniqueConstraint('objective_id', 'project_id', 'target_level', name='uq_keyresult_objective_project_level')
    )
    with op.batch_alter_table('keyresult', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_keyresult_objective_id'), ['objective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_keyresult_project_id'), ['project_id'], unique=False)

    op.create_table('checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_result_id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('confidence', sa.Integer(), nullable=False),
    sa.CheckConstraint('confidence >= 0 AND confidence <= 10', name=op.f('ck_checkin_confidence')),
    sa.ForeignKeyConstraint(['key_result_id'], ['keyresult.id'], name=op.f('fk_checkin_key_result_id_keyresult')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin'))
    )
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index('ix_checkin_key_result_at', ['key_result_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index('ix_checkin_key_result_at')

    op.drop_table('checkin')
    with op.batch_alter_table('keyresult', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_keyresult_project_id'))
        batch_op.drop_index(batch_op.f('ix_keyresult_objective_id'))

    op.drop_table('keyresult')
    with op.batch_alter_table('objective', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objective_quarter'))
        batch_op.drop_index(batch_op.f('ix_objective_copied_from_id'))

    op.drop_table('objective')
