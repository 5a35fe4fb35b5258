"""Claude Code slash commands `/moai:1-plan`, `/moai:2-run`, `/moai:3-sync`.

Each one runs `moai route <phase> ... --apply` before any work, so the phase
lands where the routing table says (branch, worktree, backend) and Claude
stops when the session is in the wrong place. Claude Code reads project
commands from `.claude/commands/`; the `moai/` folder gives the `moai:` prefix.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

COMMANDS_DIR = Path(".claude/commands/moai")
NAMES = ("1-plan", "2-run", "3-sync")


def template(name: str) -> str:
    return (
        resources.files("moai_mashup")
        .joinpath("resources", f"claude-command-{name}.md")
        .read_text(encoding="utf-8")
    )


def write_claude_commands(root: Path) -> list[tuple[Path, str]]:
    """Write the command files; returns (path, "wrote" | "kept" | "up to date") for each.

    A file the user changed is kept: it is theirs now (delete it to get ours).
    """
    results: list[tuple[Path, str]] = []
    for name in NAMES:
        path = root / COMMANDS_DIR / f"{name}.md"
        text = template(name)
        if path.exists():
            same = path.read_text(encoding="utf-8", errors="replace") == text
            results.append((path, "up to date" if same else "kept"))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        results.append((path, "wrote"))
    return results
