"""Sign-in sessions that survive a refresh (``usersession``, the cookie's token hashed), failed
sign-ins for the throttle (``signinfailure``), personal and service-account API tokens
(``apitoken``, hashed), and ``auditentry.via`` naming the token a write was made with.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 16:21:17.132933
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('signinfailure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signinfailure'))
    )
    with op.batch_alter_table('signinfailure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signinfailure_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_signinfailure_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_signinfailure_name'), ['name'], unique=False)

    op.create_table('apitoken',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.CheckConstraint("role IN ('viewer', 'editor', 'reviewer', 'admin')", name=op.f('ck_apitoken_role')),
    sa.ForeignKeyConstraint(['user_id'], ['appuser.id'], name=op.f('fk_apitoken_user_id_appuser')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apitoken')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_apitoken_token_hash'))
    )
    with op.batch_alter_table('apitoken', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apitoken_user_id'), ['user_id'], unique=False)

    op.create_table('usersession',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('revoked_reason', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['appuser.id'], name=op.f('fk_usersession_user_id_appuser')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usersession')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_usersession_token_hash'))
    )
    with op.batch_alter_table('usersession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usersession_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.drop_column('via')

    with op.batch_alter_table('usersession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usersession_user_id'))

    op.drop_table('usersession')
    with op.batch_alter_table('apitoken', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apitoken_user_id'))

    op.drop_table('apitoken')
    with op.batch_alter_table('signinfailure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signinfailure_name'))
        batch_op.drop_index(batch_op.f('ix_signinfailure_at'))
        batch_op.drop_index(batch_op.f('ix_signinfailure_address'))

    op.drop_table('signinfailure')
