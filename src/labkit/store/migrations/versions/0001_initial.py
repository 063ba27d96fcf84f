"""initial schema: runs, readouts, plate_qc, fits

Revision ID: 0001
Revises: 
Create Date: 2026-12-01

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table('runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('content_key', sa.String(length=64), nullable=False),
    sa.Column('readout_key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user', sa.String(length=200), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('assay', sa.String(length=100), nullable=False),
    sa.Column('experiment', sa.String(length=500), nullable=False),
    sa.Column('layout_path', sa.Text(), nullable=False),
    sa.Column('layout_sha256', sa.String(length=64), nullable=False),
    sa.Column('layout_text', sa.Text(), nullable=True),
    sa.Column('protocol_path', sa.Text(), nullable=True),
    sa.Column('protocol_sha256', sa.String(length=64), nullable=True),
    sa.Column('robot', sa.String(length=50), nullable=True),
    sa.Column('simulation_ok', sa.Boolean(), nullable=True),
    sa.Column('simulation_summary', sa.Text(), nullable=True),
    sa.Column('labkit_version', sa.String(length=50), nullable=False),
    sa.Column('opentrons_version', sa.String(length=50), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('n_plates', sa.Integer(), nullable=False),
    sa.Column('n_fits', sa.Integer(), nullable=False),
    sa.Column('qc_pass', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['previous_id'], ['runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('content_key'),
    sa.UniqueConstraint('readout_key', 'version', name='uq_runs_readout_version')
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runs_assay'), ['assay'], unique=False)
        batch_op.create_index(batch_op.f('ix_runs_readout_key'), ['readout_key'], unique=False)

    op.create_table('fits',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('compound', sa.String(length=500), nullable=False),
    sa.Column('group_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('model', sa.String(length=50), nullable=False),
    sa.Column('n', sa.Integer(), nullable=True),
    sa.Column('ic50_m', sa.Float(), nullable=True),
    sa.Column('ic50_ci_low_m', sa.Float(), nullable=True),
    sa.Column('ic50_ci_high_m', sa.Float(), nullable=True),
    sa.Column('pic50', sa.Float(), nullable=True),
    sa.Column('hill', sa.Float(), nullable=True),
    sa.Column('top', sa.Float(), nullable=True),
    sa.Column('bottom', sa.Float(), nullable=True),
    sa.Column('r2', sa.Float(), nullable=True),
    sa.Column('converged', sa.Boolean(), nullable=True),
    sa.Column('z_prime', sa.Float(), nullable=True),
    sa.Column('flags', sa.Text(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fits_compound'), ['compound'], unique=False)
        batch_op.create_index(batch_op.f('ix_fits_run_id'), ['run_id'], unique=False)

    op.create_table('plate_qc',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('plate', sa.String(length=200), nullable=False),
    sa.Column('group_name', sa.String(length=200), nullable=False),
    sa.Column('low_role', sa.String(length=50), nullable=False),
    sa.Column('vehicle_n', sa.Integer(), nullable=True),
    sa.Column('vehicle_mean', sa.Float(), nullable=True),
    sa.Column('vehicle_cv_pct', sa.Float(), nullable=True),
    sa.Column('low_n', sa.Integer(), nullable=True),
    sa.Column('low_mean', sa.Float(), nullable=True),
    sa.Column('low_cv_pct', sa.Float(), nullable=True),
    sa.Column('signal_background', sa.Float(), nullable=True),
    sa.Column('z_prime', sa.Float(), nullable=True),
    sa.Column('flags', sa.Text(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plate_qc', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plate_qc_run_id'), ['run_id'], unique=False)

    op.create_table('readouts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=100), nullable=True),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('readouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_readouts_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_readouts_sha256'), ['sha256'], unique=False)




def downgrade() -> None:
    """Downgrade schema."""

    with op.batch_alter_table('readouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_readouts_sha256'))
        batch_op.drop_index(batch_op.f('ix_readouts_run_id'))

    op.drop_table('readouts')
    with op.batch_alter_table('plate_qc', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plate_qc_run_id'))

    op.drop_table('plate_qc')
    with op.batch_alter_table('fits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fits_run_id'))
        batch_op.drop_index(batch_op.f('ix_fits_compound'))

    op.drop_table('fits')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runs_readout_key'))
        batch_op.drop_index(batch_op.f('ix_runs_assay'))

    op.drop_table('runs')

