"""Claude Code slash commands `/moai:1-plan`, `/moai:2-run`, `/moai:3-sync`.

Each one runs `moai route <phase> ... --apply` before any work, so the phase
lands where the routing table says (branch, worktree, backend) and Claude
stops when the session is in the wrong place. Claude Code reads project
commands from `.claude/commands/`; the `moai/` folder gives the `moai:` prefix.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from moai_mashup import files

COMMANDS_DIR = Path(".claude/commands/moai")
NAMES = ("1-plan", "2-run", "3-sync")
# Ours are ~2 KiB: one past this is no command file (refused with a line, never read whole).
MAX_COMMAND_BYTES = 1 << 20


def template(name: str) -> str:
    return (
        resources.files("moai_mashup")
        .joinpath("resources", f"claude-command-{name}.md")
        .read_text(encoding="utf-8")
    )


def targets(root: Path) -> list[tuple[Path, str]]:
    """Each command file and where writing it lands (a link's target inside `root`);
    BadInput, one line, when `.claude`, a folder below it or the file leads outside."""
    rels = [str(COMMANDS_DIR / f"{name}.md") for name in NAMES]
    return [(root / rel, files.write_target(root / rel, root, rel)) for rel in rels]


def write_claude_commands(root: Path) -> list[tuple[Path, str]]:
    """Write the command files; returns (path, "wrote" | "kept" | "up to date") for each.

    A file the user changed is kept: it is theirs now (delete it to get ours).
    Every file is checked before any is written: one leading outside `root`
    stops them all.
    """
    results: list[tuple[Path, str]] = []
    for path, dest in targets(root):
        text = template(path.stem)
        label = str(path.relative_to(root))
        have = files.read_bytes(dest, MAX_COMMAND_BYTES, label, within=root)
        if have is not None:
            same = have.decode("utf-8", "replace") == text
            results.append((path, "up to date" if same else "kept"))
            continue
        files.make_dirs(os.path.dirname(dest), within=root)
        files.write_text(path, text, 0o644, within=root, label=label)
        results.append((path, "wrote"))
    return results
