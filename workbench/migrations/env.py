"""Alembic environment of the vault database: runs on the connection db.create_schema passes."""

from alembic import context

from workbench.db import Base

config = context.config
connection = config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
