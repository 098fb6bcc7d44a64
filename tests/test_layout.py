"""The map of the code holds: domains import only the domains below them, routes never import routes.

`app/deps.py` (the dependencies routes share), `app/landing.py`, `app/main.py`, `app/cli/`, `app/demo.py` and
`app/models.py` sit above every domain; `config`, `db`, `errors`, `locale` and `web` below them all.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

from fastapi.routing import APIRoute

from app.config import PROJECT_ROOT
from app.main import WEB_ROUTERS

APP = PROJECT_ROOT / "app"
ORDER = (
    "mail",
    "catalog",
    "scoring",
    "accounts",
    "structures",
    "members",
    "assessments",
    "reviews",
    "cohorts",
    "cycle",
    "reports",
    "api",
    "admin",
    "privacy",
    "backup",
)
BELOW_EVERYTHING = {"config", "db", "errors", "locale", "observability", "web"}
DELIBERATE = {
    ("accounts/permissions.py", name) for name in ("structures", "assessments", "reviews", "cohorts")
} | {("accounts/notifications.py", name) for name in ("structures", "cohorts")}
"""The permission function reads every membership table (`shared/design.md` §5); choosing who
hears about a structure's events reads its members and its cohorts' trainers."""


def imports(path: Path) -> set[str]:
    """The `app.*` modules a file imports, at any depth (including inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app."):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "app":
            found.update(f"app.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("app."))
    return found


def domain_files() -> list[tuple[str, Path]]:
    return [(d, path) for d in ORDER for path in sorted((APP / d).rglob("*.py"))]


def test_a_domain_imports_only_the_domains_below_it() -> None:
    upwards = []
    for domain, path in domain_files():
        relative = str(path.relative_to(APP))
        allowed = set(ORDER[: ORDER.index(domain) + 1])
        for module in imports(path):
            target = module.split(".")[1]
            if target in ORDER and target not in allowed and (relative, target) not in DELIBERATE:
                upwards.append(f"{relative} imports {module}")
    assert upwards == []


def test_the_layers_below_the_domains_import_no_domain() -> None:
    found = [
        f"{name}.py imports {module}"
        for name in sorted(BELOW_EVERYTHING)
        for path in [APP / f"{name}.py", APP / name / "__init__.py"]
        if path.exists()
        for module in imports(path)
        if module.split(".")[1] in ORDER
    ]
    assert found == []


def test_routes_never_import_other_routes() -> None:
    found = [
        f"{path.relative_to(APP)} imports {module}"
        for _domain, path in domain_files()
        for module in imports(path)
        if "routes" in module.split(".")[-1]
        and module.split(".")[1] in ORDER
        and path.stem.endswith("routes")
        and module.split(".")[1] != path.parent.name
    ]
    assert found == []


def _segment_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)))


def could_share_an_address(path: str, other: str) -> bool:
    """Whether some address matches both route templates (`{name}` matches any one segment)."""
    if ":path}" in path or ":path}" in other:
        return True
    ours, theirs = path.strip("/").split("/"), other.strip("/").split("/")
    return len(ours) == len(theirs) and all(
        _segment_pattern(a).fullmatch(b) or _segment_pattern(b).fullmatch(a) or ("{" in a and "{" in b)
        for a, b in zip(ours, theirs, strict=True)
    )


def test_no_two_web_routers_answer_the_same_address() -> None:
    """`app.main.WEB_ROUTERS` is ordered by traffic: that is safe while no address could match two."""
    paths = [
        (number, route.path)
        for number, router in enumerate(WEB_ROUTERS)
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    assert could_share_an_address("/structures/{structure_id}", "/structures/nouvelle")  # the check works
    assert not could_share_an_address("/structures/{structure_id}", "/structures/{structure_id}/profil")
    shared = [
        (path, other)
        for (number, path), (other_number, other) in itertools.combinations(paths, 2)
        if number != other_number and could_share_an_address(path, other)
    ]
    assert shared == []
