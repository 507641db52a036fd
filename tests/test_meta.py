"""Meta-tests: every page and every CLI command has a test, every write service is guarded."""

import importlib
import inspect
import pkgutil
from pathlib import Path

import typer.main

import mltrl.services
from mltrl.cli import app
from mltrl.services import WRITE_SERVICES

ROOT = Path(__file__).resolve().parent.parent


def _commands(group, prefix=()):
    click_group = typer.main.get_command(group) if not hasattr(group, "commands") else group
    for name, cmd in click_group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, prefix + (name,))
        else:
            yield prefix + (name,)


def _pages() -> list[Path]:
    """The page files (``views/__init__.py`` only makes the folder a package for the layer contract)."""
    return sorted(p for p in (ROOT / "views").glob("*.py") if p.name != "__init__.py")


def test_every_page_has_an_apptest_file():
    pages = [p.stem for p in _pages()]
    assert pages, "no pages found"
    missing = [p for p in pages if not (ROOT / "tests" / "pages" / f"test_{p}.py").exists()]
    assert missing == []


def test_every_page_is_registered_in_the_navigation():
    app_text = (ROOT / "app.py").read_text()
    missing = [p.name for p in _pages() if f'"views/{p.name}"' not in app_text]
    assert missing == []


def test_every_cli_command_is_exercised_by_the_cli_tests():
    cli_tests = "\n".join(p.read_text() for p in [*(ROOT / "tests" / "services").glob("test_cli*.py"), ROOT / "tests" / "services" / "test_backup.py"])
    commands = list(_commands(app))
    assert len(commands) >= 8
    untested = [" ".join(c) for c in commands if not all(f'"{word}"' in cli_tests for word in c)]
    assert untested == []


def test_write_services_are_registered_and_keyword_only():
    # A service registers itself when its module is imported: import them all, so the test
    # sees every writer whether it runs alone or after other tests.
    for module in pkgutil.walk_packages(mltrl.services.__path__, "mltrl.services."):
        importlib.import_module(module.name)
    names = {f.__name__ for f in WRITE_SERVICES}
    assert {"add_project", "update_project", "record_start", "graduate", "switch_back", "load_demo",
            "add_user", "set_role", "set_disabled", "change_password", "create_first_admin"} <= names
    assert all(getattr(f, "is_write_service", False) for f in WRITE_SERVICES)
    assert all(getattr(f, "permission", None) is not None for f in WRITE_SERVICES)
    assert len(WRITE_SERVICES) == len(set(WRITE_SERVICES))
    positional = {f.__name__: [name for name, p in inspect.signature(f).parameters.items()
                               if p.kind is not inspect.Parameter.KEYWORD_ONLY]
                  for f in WRITE_SERVICES}
    assert {name: params for name, params in positional.items() if params} == {}
    assert all({"session", "actor"} <= inspect.signature(f).parameters.keys() for f in WRITE_SERVICES)
