"""Alembic environment: the models' metadata, batch mode for SQLite, a shared connection.

``mltrl.db.upgrade_db`` passes its own connection in ``config.attributes["connection"]`` (the
Alembic cookbook's "sharing a connection" recipe) and asks not to configure logging, so running
migrations inside the app never disables Streamlit's loggers.
"""

from logging.config import fileConfig

from alembic import context
from sqlmodel import SQLModel

from mltrl import models  # noqa: F401  (registers the tables)
from mltrl.db import database_url, make_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url") or database_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or database_url()
    engine = make_engine(url, foreign_keys=False)
    with engine.begin() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
