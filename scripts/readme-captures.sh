#!/usr/bin/env bash
# Terminal captures in README.md, made from the real commands in a real
# terminal (tmux): `moai init` answered with its defaults, then a SPEC branch
# and `moai status` on GLM, then (when this moai has it) the Claude Code
# status line on GLM and on Claude. Runs in a temporary HOME with a fake key.
#
#   bash scripts/readme-captures.sh           rewrite the block in README.md
#   bash scripts/readme-captures.sh --check   exit 1 when README.md's block is stale
#
# MOAI=path/to/moai selects the moai to capture (default: ./.venv/bin/moai).
set -euo pipefail
cd "$(dirname "$0")/.."
README=$PWD/README.md
CAPTURED_MOAI=${MOAI:-$PWD/.venv/bin/moai}
MODE=write
[ "${1-}" = --check ] && MODE=check
command -v tmux >/dev/null || { echo "readme-captures: needs tmux" >&2; exit 2; }
[ -x "$CAPTURED_MOAI" ] || { echo "readme-captures: no moai at $CAPTURED_MOAI (run scripts/test.sh or set MOAI)" >&2; exit 2; }

T=$(mktemp -d)
SOCK=$T/tmux.sock
trap 'tmux -S "$SOCK" kill-server 2>/dev/null || true; rm -rf "$T"' EXIT
H=$T/home
REPO=$H/your-repo
KEY=demo0000fake0000key0000not0real
mkdir -p "$H" "$REPO"

# Nothing of the caller's: no git, moai, Anthropic or GLM variables, a fresh HOME.
for v in $(env | sed -n 's/^\(\(GIT_\|MOAI_\|ANTHROPIC_\|GLM_\|CLAUDE_\)[A-Z_]*\)=.*/\1/p'); do
  unset "$v"
done
unset MOAI
export HOME=$H GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$H/.gitconfig XDG_CONFIG_HOME=$H/.config
export PATH="$(dirname "$CAPTURED_MOAI"):/usr/local/bin:/usr/bin:/bin" TERM=xterm-256color LC_ALL=C.UTF-8
git config --global user.name you
git config --global user.email you@example.invalid
git config --global init.defaultBranch main
git -C "$REPO" init -q
echo "# your project" >"$REPO/README.md"
git -C "$REPO" add README.md
git -C "$REPO" commit -qm "start"
printf "PS1='\$ '\nunset HISTFILE\n" >"$T/bashrc"

tmux -S "$SOCK" -f /dev/null new-session -d -x 110 -y 80 -c "$REPO" \
  bash --noprofile --rcfile "$T/bashrc" -i

screen() { tmux -S "$SOCK" capture-pane -p -J -S - | sed 's/[[:space:]]*$//'; }
wait_for() { # TEXT: until the screen shows it
  for _ in $(seq 300); do
    screen | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  echo "readme-captures: '$1' never appeared; the screen:" >&2
  screen >&2
  exit 1
}
wait_prompt() { # until the last non-empty line is a bare prompt
  for _ in $(seq 300); do
    [ "$(screen | sed '/^$/d' | tail -n 1)" = '$' ] && return 0
    sleep 0.1
  done
  echo "readme-captures: no prompt came back; the screen:" >&2
  screen >&2
  exit 1
}
type_line() { # TEXT, then Enter once the shell shows it: until then the screen still
  # ends in the bare prompt, and a wait_prompt right after would return at once
  tmux -S "$SOCK" send-keys -l -- "$1"
  for _ in $(seq 300); do
    [ "$(screen | sed '/^$/d' | tail -n 1)" = "\$ $1" ] && break
    sleep 0.05
  done
  tmux -S "$SOCK" send-keys Enter
}
press() { tmux -S "$SOCK" send-keys "$@"; }
fresh() { # a clear screen and no scrollback: the next shot starts here
  type_line clear
  for _ in $(seq 300); do
    [ "$(tmux -S "$SOCK" capture-pane -p | sed 's/[[:space:]]*$//; /^$/d')" = '$' ] && break
    sleep 0.1
  done
  tmux -S "$SOCK" clear-history
  wait_prompt
}
# the screen without the trailing blank lines and the last (empty) prompt
shot() { screen | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' | sed '$d' | sed "s#$H#~#g"; }

wait_prompt
fresh
type_line "moai init"
wait_for "[mashup]:"; press Enter
wait_for "GLM API key:"; tmux -S "$SOCK" send-keys -l -- "$KEY"; press Enter
wait_for "(the backend follows the branch)? [Y/n]:"; press Enter
wait_for "(.claude/settings.json)? [Y/n]:"; press Enter
wait_for "/moai:3-sync? [Y/n]:"; press Enter
wait_for "next:"; wait_prompt
INIT=$(shot)

fresh
type_line "git add -A && git commit -qm 'moai-mashup' && git checkout -b feature/SPEC-AUTH-001"
wait_prompt
type_line "moai status"
wait_prompt
GLM=$(shot)

# The Claude Code status line: `moai statusline` reads the JSON Claude Code
# sends a statusLine command on stdin.
STATUSLINE=
if echo '{}' | "$CAPTURED_MOAI" statusline >/dev/null 2>&1; then
  session() { # DIR MODEL_ID MODEL_NAME
    printf '{"hook_event_name":"Status","session_id":"readme","cwd":"%s","model":{"id":"%s","display_name":"%s"},"workspace":{"current_dir":"%s","project_dir":"%s"},"version":"2.1.112"}' \
      "$1" "$2" "$3" "$1" "$1"
  }
  session "$REPO" glm-4.7 glm-4.7 >"$H/session-glm.json"
  session "$REPO" claude-sonnet-4-5 "Sonnet 4.5" >"$H/session-claude.json"
  fresh
  type_line "moai statusline <~/session-glm.json      # Claude Code on feature/SPEC-AUTH-001"
  wait_prompt
  type_line "git checkout -q main"
  wait_prompt
  type_line "moai statusline <~/session-claude.json   # Claude Code on main"
  wait_prompt
  STATUSLINE=$(shot)
fi

BLOCK=$T/block.md
{
  echo '<!-- captures: written by scripts/readme-captures.sh from the real commands; do not edit -->'
  echo 'After `moai init`, the git hook puts a SPEC branch on GLM, and `moai status` says so:'
  echo
  echo '```text'
  echo "$GLM"
  echo '```'
  if [ -n "$STATUSLINE" ]; then
    echo
    echo 'Claude Code shows it too: its status line (`moai statusline`, fed the JSON Claude'
    echo 'Code sends it) on GLM and on Claude:'
    echo
    echo '```text'
    echo "$STATUSLINE"
    echo '```'
  fi
  echo
  echo '<details><summary><code>moai init</code> in a terminal, Enter for every default (the key typed is not shown)</summary>'
  echo
  echo '```text'
  echo "$INIT"
  echo '```'
  echo
  echo '</details>'
  echo '<!-- /captures -->'
} >"$BLOCK"

python3 - "$README" "$BLOCK" "$MODE" <<'PY'
import re
import sys
from pathlib import Path

readme, block, mode = Path(sys.argv[1]), Path(sys.argv[2]).read_text(), sys.argv[3]
text = readme.read_text(encoding="utf-8")
pattern = re.compile(r"<!-- captures:.*?<!-- /captures -->\n", re.S)
if not pattern.search(text):
    sys.exit("readme-captures: README.md has no <!-- captures: --> ... <!-- /captures --> block")
new = pattern.sub(lambda _: block, text, count=1)
if mode == "check":
    if new != text:
        import difflib

        sys.stderr.writelines(
            difflib.unified_diff(text.splitlines(True), new.splitlines(True), "README.md", "now")
        )
        sys.exit("readme-captures: README.md's captures are stale; run: bash scripts/readme-captures.sh")
elif new != text:
    readme.write_text(new, encoding="utf-8")
    print("readme-captures: README.md updated")
PY
