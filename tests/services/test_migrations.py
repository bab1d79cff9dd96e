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


def test_a_token_made_before_tokens_expired_works_for_a_year_from_the_upgrade(app):
    """0009: no integration stops on the day of the upgrade, and none works for ever."""
    from datetime import timedelta

    from governance.models import ApiToken, utcnow
    from governance.services import auth
    from governance.services.actor import Actor
    token = auth.create_token(db.session, Actor.system("test"), "ahn")
    db.session.commit()
    db.session.remove()
    downgrade(directory=MIGRATIONS, revision="0008")
    assert "expires_at" not in {c["name"] for c in sa.inspect(db.engine).get_columns(
        "api_tokens")}
    upgrade(directory=MIGRATIONS)
    row = db.session.scalar(sa.select(ApiToken).where(
        ApiToken.token_sha256 == auth.token_digest(token)))
    left = row.expires_at - utcnow()
    assert timedelta(days=364) < left <= timedelta(days=365)
    columns = {c["name"]: c for c in sa.inspect(db.engine).get_columns("api_tokens")}
    assert columns["expires_at"]["nullable"] is False
