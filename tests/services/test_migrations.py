"""Migrations go from empty to head and back down again, on every engine under test."""
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from governance.config import PROJECT_ROOT
from governance.extensions import db
from governance.models import Base

MIGRATIONS = str(PROJECT_ROOT / "migrations")


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_head_matches_the_models(empty_app):
    assert table_names() == set(Base.metadata.tables)


def test_downgrade_to_base_and_up_again(empty_app):
    downgrade(directory=MIGRATIONS, revision="base")
    assert table_names() == set()
    upgrade(directory=MIGRATIONS)
    assert table_names() == set(Base.metadata.tables)


def test_migrations_form_one_line():
    from alembic.config import Config
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1
