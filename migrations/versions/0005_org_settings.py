"""Organisation settings an admin changed (review cadences, card staleness; see mltrl.domain.policy),
and indexes on the risk register's links (a requirement's or component's risks are looked up by them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:29:49.737215
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('orgsetting',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_orgsetting'))
    )
    with op.batch_alter_table('risk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_component_id'), ['component_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_requirement_id'), ['requirement_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('risk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_requirement_id'))
        batch_op.drop_index(batch_op.f('ix_risk_component_id'))
    op.drop_table('orgsetting')
