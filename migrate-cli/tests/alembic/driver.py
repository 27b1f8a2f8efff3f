"""Runs revision graphs and command sequences through Alembic itself, for
migrate-cli/tests/alembic_differential.rs.

Reads a JSON document on stdin:

    {"cases": [{"revisions": [{"id": "a1", "parents": [], "depends_on": [],
                               "branch_labels": []}, ...],
                "commands": [["upgrade", "heads"], ["current"],
                             ["history", "a1:"], ...]}, ...]}

and writes, for each case, one result per command:

    {"ok": true | false, "error": "...", "warnings": [...],
     "applied": [...],      # every revision the database counts as applied
     "output": [...]}       # `current` / `history`: the revision ids listed

The upgrade and downgrade functions of every revision do nothing: what is
compared is which revisions Alembic runs, read back from its version table.
"""

import io
import json
import os
import re
import sys
import tempfile
import warnings

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

ENV_PY = '''
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
'''

SCRIPT = '''revision = {id!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {depends!r}


def upgrade():
    pass


def downgrade():
    pass
'''


def as_tuple(items):
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    return tuple(items)


def write_project(root, revisions):
    versions = os.path.join(root, "versions")
    os.makedirs(versions)
    with open(os.path.join(root, "env.py"), "w") as f:
        f.write(ENV_PY)
    for r in revisions:
        with open(os.path.join(versions, r["id"] + "_r.py"), "w") as f:
            f.write(
                SCRIPT.format(
                    id=r["id"],
                    down=as_tuple(r["parents"]),
                    labels=as_tuple(r.get("branch_labels", [])),
                    depends=as_tuple(r.get("depends_on", [])),
                )
            )


# The revision id a `current` or `history` line lists: `current` prints
# "<rev> (head)", history "<parents> -> <rev> (head), message".
HISTORY_LINE = re.compile(r"->\s+(\w+)")


def listed(kind, text):
    ids = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if kind == "history":
            match = HISTORY_LINE.search(line)
            if match:
                ids.append(match.group(1))
        else:
            ids.append(line.split()[0])
    return ids


def applied(script, url):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    revs = script.revision_map._get_ancestor_nodes(script.get_revisions(heads))
    return sorted(r.revision for r in revs), sorted(heads)


def run_case(case):
    with tempfile.TemporaryDirectory() as root:
        write_project(root, case["revisions"])
        url = "sqlite:///" + os.path.join(root, "alembic.db")
        results = []
        for cmd in case["commands"]:
            out = io.StringIO()
            config = Config(stdout=out)
            config.set_main_option("script_location", root)
            config.set_main_option("sqlalchemy.url", url)
            result = {"ok": True, "error": None, "warnings": [], "output": None}
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    verb = cmd[0]
                    if verb == "upgrade":
                        command.upgrade(config, cmd[1])
                    elif verb == "downgrade":
                        command.downgrade(config, cmd[1])
                    elif verb == "current":
                        command.current(config)
                        result["output"] = listed("current", out.getvalue())
                    elif verb == "history":
                        command.history(config, cmd[1])
                        result["output"] = listed("history", out.getvalue())
                    else:
                        raise ValueError("unknown verb %r" % verb)
                except Exception as err:  # noqa: BLE001 - every refusal is compared
                    result["ok"] = False
                    result["error"] = "%s: %s" % (type(err).__name__, err)
                result["warnings"] = [str(w.message) for w in caught]
            script = ScriptDirectory.from_config(config)
            result["applied"], result["version_table"] = applied(script, url)
            results.append(result)
        return {"results": results}


def main():
    request = json.load(sys.stdin)
    json.dump({"cases": [run_case(case) for case in request["cases"]]}, sys.stdout)


if __name__ == "__main__":
    main()
