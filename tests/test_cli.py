"""`idealtype` command line: every subcommand's help renders (argparse formats help strings
with %, so a stray one only fails when somebody asks for --help)."""

import pytest

from idealtype.cli import COMMANDS, main


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_subcommand_prints_its_help(name, capsys):
    with pytest.raises(SystemExit) as done:
        main([name, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: idealtype {name}") and "--" in out


def test_the_top_level_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


@pytest.mark.parametrize(("arguments", "message"), [
    (["demo", "--every", "0"], "argument --every: must be at least 1, not 0"),
    (["demo", "--per-person", "x"], "argument --per-person: not an integer: 'x'"),
    (["demo", "--port", "70000"], "argument --port: a TCP port is 1-65535, not '70000'"),
    (["serve", "--port", "0"], "argument --port: a TCP port is 1-65535, not '0'"),
])
def test_numbers_a_command_cannot_run_with_are_refused_on_the_command_line(
        arguments, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as refused:
        main([*arguments, "--out", str(tmp_path / "o")] if arguments[0] == "demo" else arguments)
    assert refused.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
