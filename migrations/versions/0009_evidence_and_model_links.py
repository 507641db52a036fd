"""Evidence (``evidence``: append-only records from CI, MLflow, model cards and people, for a
technology's level, criterion or requirement) and MLflow model links (``modellink``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:30:43.620985
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('modellink',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('tracking_uri', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('deployed_alias', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('webhook_secret', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('deployed_version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('proposal', sa.JSON(), nullable=True),
    sa.Column('last_synced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_sync_error', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_modellink_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_modellink')),
    sa.UniqueConstraint('project_id', name=op.f('uq_modellink_project_id'))
    )
    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('criterion_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('requirement', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('produced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('recorded_via', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.CheckConstraint("kind IN ('ci-run', 'test-report', 'mlflow-run', 'model-version', 'model-card', 'document', 'dashboard', 'other')", name=op.f('ck_evidence_kind')),
    sa.CheckConstraint("status IN ('pass', 'fail', 'info')", name=op.f('ck_evidence_status')),
    sa.CheckConstraint('level >= 0 AND level <= 9', name=op.f('ck_evidence_level')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_evidence_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('project_id', 'external_id', name='uq_evidence_project_external_id')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_project_level_criterion', ['project_id', 'level', 'criterion_key', 'produced_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_project_level_criterion')

    op.drop_table('evidence')
    op.drop_table('modellink')
