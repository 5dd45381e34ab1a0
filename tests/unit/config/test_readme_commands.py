"""Every command line the README shows exists, with every option it names.

A newcomer copies these lines first; a renamed command or option must fail here,
not on their machine. (The commands themselves are run end to end by
``tests/e2e/test_quickstart.py`` and the CLI tests.)
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from api.cli import main as fieldline
from client_sdk.cli import main as fieldline_tech

README = Path(__file__).resolve().parents[3] / "README.md"
PROGRAMS: dict[str, click.Group] = {"fieldline": fieldline, "fieldline-tech": fieldline_tech}
_INLINE = re.compile(r"`((?:\.venv/bin/)?fieldline(?:-tech)? [^`]*)`")


def _readme_command_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    lines = [m.group(1) for m in _INLINE.finditer(text)]
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = block.replace("\\\n", " ")
        lines += [
            line.split("#")[0].strip()
            for line in joined.splitlines()
            if re.match(r"\s*(?:\.venv/bin/)?fieldline(?:-tech)? ", line)
        ]
    return [line for line in lines if "…" not in line]


def _check(line: str) -> None:
    words = shlex.split(re.sub(r"\[([^\]]*)\]", r"\1", line))  # [--opt X] -> --opt X
    command: click.Command = PROGRAMS[Path(words[0]).name]
    options = {name: opt for opt in command.params for name in opt.opts}
    rest = iter(words[1:])
    for word in rest:
        if word.startswith("-"):
            name = word.split("=")[0]
            if name == "--help":
                continue
            assert name in options, f"{line!r}: no option {name}"
            option = options[name]
            if isinstance(option, click.Option) and not option.is_flag and "=" not in word:
                next(rest, None)  # its value
        elif isinstance(command, click.Group):
            assert word in command.commands, f"{line!r}: no command {word}"
            command = command.commands[word]
            options.update({name: opt for opt in command.params for name in opt.opts})


@pytest.mark.parametrize("line", _readme_command_lines())
def test_the_readme_names_only_commands_and_options_that_exist(line: str) -> None:
    _check(line)


def test_the_readme_shows_both_programs_and_the_port_option() -> None:
    lines = _readme_command_lines()
    assert any(line.startswith(".venv/bin/fieldline-tech") for line in lines)
    assert any("--port" in line for line in lines)


def test_a_wrong_option_would_be_caught() -> None:
    with pytest.raises(AssertionError, match="no option --prot"):
        _check("fieldline serve --prot 8080")


def test_a_wrong_command_would_be_caught() -> None:
    with pytest.raises(AssertionError, match="no command sync-compactt"):
        _check("fieldline sync-compactt --days 9")
