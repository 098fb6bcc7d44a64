"""Compiled Jinja templates shared by every app the tests create.

Each test creates its own app, and each app its own Jinja environment, which compiles every template
it renders again: parsing and generating Python for `base.html`, the macro libraries and the page made
up most of a page test's time. Compiling is a pure function of the template's source and of how the
environment is configured, so one compilation can serve every environment that is configured alike.
"""

from __future__ import annotations

from types import CodeType
from typing import Any

from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache


def compiled_with(environment: Environment, name: str) -> tuple[Any, ...]:
    """What of the environment Jinja's compiler reads: the code differs when any of it does."""
    autoescape = environment.autoescape
    return (
        type(environment),
        tuple(sorted(environment.extensions)),
        getattr(environment, "newstyle_gettext", False),
        autoescape(name) if callable(autoescape) else autoescape,
        environment.finalize is not None,
        environment.is_async,
        environment.optimized,
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
    )


class SharedCompiledTemplates(BytecodeCache):
    """Jinja's bytecode cache, in memory, keyed on the template's name, file name and full source
    and on `compiled_with` its environment: a changed file or a differently configured environment
    compiles afresh. Code objects are immutable; each environment still runs its own module."""

    def __init__(self) -> None:
        self._code: dict[str, CodeType] = {}

    def get_bucket(self, environment: Environment, name: str, filename: str | None, source: str) -> Bucket:
        bucket = Bucket(environment, repr((compiled_with(environment, name), name, filename, source)), "")
        bucket.code = self._code.get(bucket.key)
        return bucket

    def set_bucket(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self._code[bucket.key] = bucket.code
