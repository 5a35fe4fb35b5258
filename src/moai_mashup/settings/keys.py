"""The user's GLM key: where it comes from, how it is stored, how it is shown.

Priority (docs/configuration.md, "Where the GLM key comes from"):
~/.moai/.env.glm > ~/.moai/credentials.yaml (glm_api_key)
> $<glm_env_var> > $GLM_API_KEY. A key never reaches argv, a log line or an
error message; `mask()` is the only way it is ever shown.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from moai_mashup import files
from moai_mashup.errors import BadInput, Refused
from moai_mashup.lean import NamedTuple
from moai_mashup.limits import MAX_CONFIG_BYTES

ENV_FILE_VAR = "GLM_API_KEY"
_BAD_KEY = re.compile(r"[\s\x00-\x1f\x7f]")


class GlmKey(NamedTuple):
    value: str
    source: str  # "~/.moai/.env.glm", "~/.moai/credentials.yaml" or "$NAME"

    def __repr__(self) -> str:  # never let a key reach a traceback or a log by accident
        return f"GlmKey(value={mask(self.value)!r}, source={self.source!r})"


def mask(key: str) -> str:
    if len(key) >= 12:
        return f"{key[:4]}…{key[-4:]}"
    return "…"  # too short to show any of it safely


def moai_home() -> Path:
    home = os.environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".moai"


def env_file() -> Path:
    return moai_home() / ".env.glm"


def credentials_file() -> Path:
    return moai_home() / "credentials.yaml"


def _display(path: Path) -> str:
    home = os.environ.get("HOME")
    if home and str(path).startswith(home.rstrip("/") + "/"):
        return "~/" + str(path)[len(home.rstrip("/")) + 1 :]
    return str(path)


def validate_key(key: str, where: str) -> str:
    if not key:
        raise BadInput(f"{where}: the GLM key is empty")
    if _BAD_KEY.search(key):
        raise BadInput(
            f"{where}: the GLM key contains whitespace or control characters; paste the key alone"
        )
    return key


def _check_private(path: Path) -> None:
    """Refuse a key file others can read, as ssh does with private keys."""
    st = path.stat()
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        shown = _display(path)
        raise Refused(
            f"{shown}: holds a key but is readable by others "
            f"(mode {stat.S_IMODE(st.st_mode):04o}); run: chmod 600 {shown}"
        )


# --- .env.glm: KEY="value" lines, double quotes with sh's escapes ---------------------
# Written so that `. ~/.moai/.env.glm` in sh yields the same value as we read.
_DQ_ESCAPES = '\\"$`'


def _quote(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`")
    )
    return f'"{escaped}"'


def _unquote(raw: str, where: str) -> str:
    raw = raw.strip()
    if raw.startswith('"'):
        out: list[str] = []
        i = 1
        while i < len(raw):
            c = raw[i]
            if c == "\\" and i + 1 < len(raw) and raw[i + 1] in _DQ_ESCAPES:
                out.append(raw[i + 1])  # as sh does: only these four are escapes in "..."
                i += 2
                continue
            if c == '"':
                rest = raw[i + 1 :].strip()
                if rest and not rest.startswith("#"):
                    raise BadInput(f"{where}: unexpected text after the closing quote")
                return "".join(out)
            out.append(c)
            i += 1
        raise BadInput(f"{where}: unterminated double quote")
    if raw.startswith("'"):
        end = raw.find("'", 1)
        if end < 0:
            raise BadInput(f"{where}: unterminated single quote")
        return raw[1:end]
    return raw.split(" #", 1)[0].strip()


def parse_env_file(text: str, label: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        name, eq, raw = stripped.partition("=")
        if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name.strip()):
            raise BadInput(f'{label}: line {n}: expected NAME="value"')
        values[name.strip()] = _unquote(raw, f"{label}: line {n}")
    return values


def _read_user_file(path: Path) -> str | None:
    """A key file of the user's (None: absent), bounded, refused when others may read it."""
    if not path.exists():
        return None
    _check_private(path)
    return files.read_text(path, MAX_CONFIG_BYTES, _display(path))


def read_env_file_key(path: Path) -> str | None:
    text = _read_user_file(path)
    if text is None:
        return None
    label = _display(path)
    values = parse_env_file(text, label)
    key = values.get(ENV_FILE_VAR)
    if key is None:
        return None
    return validate_key(key, f"{label}: {ENV_FILE_VAR}")


def read_credentials_key(path: Path) -> str | None:
    text = _read_user_file(path)
    if text is None:
        return None
    import yaml

    label = _display(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise BadInput(f"{label}: malformed YAML; expected 'glm_api_key: <key>'") from None
    if not isinstance(data, dict) or data.get("glm_api_key") in (None, ""):
        return None
    key = data["glm_api_key"]
    if not isinstance(key, str):
        raise BadInput(f"{label}: glm_api_key: must be a string")
    return validate_key(key, f"{label}: glm_api_key")


def resolve_key(glm_env_var: str = ENV_FILE_VAR) -> GlmKey | None:
    """The key by the priority in the module docstring, or None when no source has one."""
    key = read_env_file_key(env_file())
    if key is not None:
        return GlmKey(key, _display(env_file()))
    key = read_credentials_key(credentials_file())
    if key is not None:
        return GlmKey(key, _display(credentials_file()))
    for name in dict.fromkeys((glm_env_var, ENV_FILE_VAR)):
        value = os.environ.get(name)
        if value:
            return GlmKey(validate_key(value, f"${name}"), f"${name}")
    return None


def no_key_message(glm_env_var: str) -> str:
    names = " or ".join(f"${n}" for n in dict.fromkeys((glm_env_var, ENV_FILE_VAR)))
    return (
        f"no GLM key found in ~/.moai/.env.glm, ~/.moai/credentials.yaml or {names}; "
        "run: moai glm --set-key"
    )


def save_key(key: str) -> Path:
    """Write the key into ~/.moai/.env.glm (0600, atomic), keeping the file's other lines."""
    validate_key(key, "the key given")
    path = env_file()
    files.make_dirs(path.parent, 0o700)
    lines: list[str] = []
    replaced = False
    text = _read_user_file(path)
    if text is not None:
        for line in text.splitlines():
            body = line.strip()
            body = body[len("export ") :].lstrip() if body.startswith("export ") else body
            if body.split("=", 1)[0].strip() == ENV_FILE_VAR:
                if not replaced:
                    lines.append(f"{ENV_FILE_VAR}={_quote(key)}")
                    replaced = True
                continue
            lines.append(line)
    if not replaced:
        lines.append(f"{ENV_FILE_VAR}={_quote(key)}")
    files.write_text(path, "\n".join(lines) + "\n", 0o600, within=moai_home())
    return path
