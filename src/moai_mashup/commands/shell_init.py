"""`moai shell-init bash|zsh|fish`: a `moai` function that can cd the shell, and completion.

A child process cannot change its parent shell's directory. The function
makes an empty temp file, names it in $MOAI_CD_FILE for `moai`, and after
`moai` exits cds to the directory written there (`moai worktree create`,
`go`, and `remove` of the worktree you stand in). Use it with:

    eval "$(moai shell-init bash)"      # ~/.bashrc   (zsh: ~/.zshrc)
    moai shell-init fish | source       # ~/.config/fish/config.fish

The same output registers tab completion of commands, options and their
choices: click's completion script for that shell, which calls `moai` back
with `_MOAI_COMPLETE` set (the entry point then always goes through click).
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from moai_mashup.cli import cli

POSIX = r"""# moai shell integration (moai shell-init {shell}): lets `moai worktree create|go` cd
moai() {{
  local __moai_cd __moai_rc __moai_dir
  __moai_cd="$(mktemp "${{TMPDIR:-/tmp}}/moai-cd.XXXXXX")" || {{ command moai "$@"; return; }}
  MOAI_CD_FILE="$__moai_cd" command moai "$@"
  __moai_rc=$?
  __moai_dir="$(cat -- "$__moai_cd" 2>/dev/null)"
  command rm -f -- "$__moai_cd"
  if [ -n "$__moai_dir" ]; then
    builtin cd -- "$__moai_dir" || return
  fi
  return $__moai_rc
}}
"""

FISH = r"""# moai shell integration (moai shell-init fish): lets `moai worktree create|go` cd
function moai --wraps moai --description 'moai, able to cd into worktrees'
    set -l __moai_cd (mktemp (set -q TMPDIR; and echo $TMPDIR; or echo /tmp)/moai-cd.XXXXXX)
    or begin
        command moai $argv
        return
    end
    MOAI_CD_FILE=$__moai_cd command moai $argv
    set -l __moai_rc $status
    set -l __moai_dir (cat -- $__moai_cd 2>/dev/null)
    command rm -f -- $__moai_cd
    if test -n "$__moai_dir"
        builtin cd -- $__moai_dir; or return
    end
    return $__moai_rc
end
"""


# click's zsh script registers itself with compdef, which exists only once
# compinit ran (oh-my-zsh and most setups run it; a bare ~/.zshrc does not).
ZSH_COMPINIT = """\
(( $+functions[compdef] )) || { autoload -Uz compinit && compinit -i; }
"""


def completion(shell: str) -> str:
    """click's completion script for `moai` in this shell."""

    cls = get_completion_class(shell)
    assert cls is not None  # click has bash, zsh and fish
    source = cls(cli, {}, "moai", "_MOAI_COMPLETE").source().rstrip("\n") + "\n"
    head = f"# moai tab completion (moai shell-init {shell})\n"
    return head + (ZSH_COMPINIT if shell == "zsh" else "") + source


def script(shell: str) -> str:
    return (FISH if shell == "fish" else POSIX.format(shell=shell)) + completion(shell)


@click.command("shell-init")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def command(shell: str) -> None:
    """Print a shell function so `moai worktree create` / `go` can cd your shell,
    and tab completion for moai's commands and options.

    \b
    bash: eval "$(moai shell-init bash)"   in ~/.bashrc
    zsh:  eval "$(moai shell-init zsh)"    in ~/.zshrc
    fish: moai shell-init fish | source    in ~/.config/fish/config.fish
    """
    click.echo(script(shell), nl=False)
