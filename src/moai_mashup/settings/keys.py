"""The user's keys, one per backend: where each comes from, how it is stored and shown.

Priority for `glm` (docs/configuration.md, "Where the keys come from"):
~/.moai/.env.glm (GLM_API_KEY) > ~/.moai/credentials.yaml (glm_api_key)
> $<glm_env_var> > $GLM_API_KEY.
For any other backend NAME: ~/.moai/.env.NAME (MOAI_<NAME>_API_KEY) >
~/.moai/credentials.yaml (NAME_api_key) > $MOAI_<NAME>_API_KEY, and no other
variable: the name comes from a committed file, so it must never make moai
read another of the user's secrets (core/backends.key_var).
A key never reaches argv, a log line or an error message; `mask()` is the
only way it is ever shown.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from moai_mashup import files
from moai_mashup.core.backends import GLM, key_var, name_problem
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


def env_file(backend: str = GLM) -> Path:
    """~/.moai/.env.<backend>; the name is checked first (it becomes a file name)."""
    problem = name_problem(backend)
    if problem is not None:
        raise BadInput(problem)
    return moai_home() / f".env.{backend}"


def file_var(backend: str = GLM) -> str:
    """The variable a backend's key file holds its key in."""
    return ENV_FILE_VAR if backend == GLM else key_var(backend)


def credentials_field(backend: str = GLM) -> str:
    """The credentials.yaml field of a backend's key (`glm_api_key`, `kimi_api_key`)."""
    return f"{backend}_api_key"


def env_vars(backend: str = GLM, glm_env_var: str = ENV_FILE_VAR) -> tuple[str, ...]:
    """The environment variables a backend's key may come from, in order."""
    if backend == GLM:
        return tuple(dict.fromkeys((glm_env_var, ENV_FILE_VAR)))
    return (key_var(backend),)


def credentials_file() -> Path:
    return moai_home() / "credentials.yaml"


def _display(path: Path) -> str:
    home = os.environ.get("HOME")
    if home and str(path).startswith(home.rstrip("/") + "/"):
        return "~/" + str(path)[len(home.rstrip("/")) + 1 :]
    return str(path)


def validate_key(key: str, where: str, backend: str = GLM) -> str:
    what = "the GLM key" if backend == GLM else f"the {backend} key"
    if not key:
        raise BadInput(f"{where}: {what} is empty")
    if _BAD_KEY.search(key):
        raise BadInput(
            f"{where}: {what} contains whitespace or control characters; paste the key alone"
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


def read_env_file_key(path: Path, backend: str = GLM) -> str | None:
    text = _read_user_file(path)
    if text is None:
        return None
    label = _display(path)
    values = parse_env_file(text, label)
    var = file_var(backend)
    key = values.get(var)
    if key is None:
        return None
    return validate_key(key, f"{label}: {var}", backend)


def read_credentials_key(path: Path, backend: str = GLM) -> str | None:
    text = _read_user_file(path)
    if text is None:
        return None
    import yaml

    label = _display(path)
    field = credentials_field(backend)
    try:
        from moai_mashup.limits import load_yaml_unique

        data = load_yaml_unique(text, label)
    except yaml.YAMLError:
        raise BadInput(f"{label}: malformed YAML; expected '{field}: <key>'") from None
    if not isinstance(data, dict) or data.get(field) in (None, ""):
        return None
    key = data[field]
    if not isinstance(key, str):
        raise BadInput(f"{label}: {field}: must be a string")
    return validate_key(key, f"{label}: {field}", backend)


def resolve_key(glm_env_var: str = ENV_FILE_VAR, backend: str = GLM) -> GlmKey | None:
    """A backend's key by the priority in the module docstring, or None when no source has one."""
    path = env_file(backend)
    key = read_env_file_key(path, backend)
    if key is not None:
        return GlmKey(key, _display(path))
    key = read_credentials_key(credentials_file(), backend)
    if key is not None:
        return GlmKey(key, _display(credentials_file()))
    for name in env_vars(backend, glm_env_var):
        value = os.environ.get(name)
        if value:
            return GlmKey(validate_key(value, f"${name}", backend), f"${name}")
    return None


def no_key_message(glm_env_var: str, backend: str = GLM) -> str:
    names = " or ".join(f"${n}" for n in env_vars(backend, glm_env_var))
    what, fix = (
        ("GLM", "moai glm --set-key") if backend == GLM else (backend, f"moai key set {backend}")
    )
    return (
        f"no {what} key found in ~/.moai/.env.{backend}, ~/.moai/credentials.yaml or {names}; "
        f"run: {fix}"
    )


def _line_var(line: str) -> str:
    """The variable a line of a key file sets ('' for a comment or a blank line)."""
    body = line.strip()
    body = body[len("export ") :].lstrip() if body.startswith("export ") else body
    return "" if body.startswith("#") else body.split("=", 1)[0].strip()


def save_key(key: str, backend: str = GLM) -> Path:
    """Write a backend's key into ~/.moai/.env.<backend> (0600, atomic), keeping the
    file's other lines."""
    validate_key(key, "the key given", backend)
    var = file_var(backend)
    path = env_file(backend)
    files.make_dirs(path.parent, 0o700)
    lines: list[str] = []
    replaced = False
    text = _read_user_file(path)
    if text is not None:
        for line in text.splitlines():
            if _line_var(line) == var:
                if not replaced:
                    lines.append(f"{var}={_quote(key)}")
                    replaced = True
                continue
            lines.append(line)
    if not replaced:
        lines.append(f"{var}={_quote(key)}")
    files.write_text(path, "\n".join(lines) + "\n", 0o600, within=moai_home())
    return path


def remove_key(backend: str = GLM) -> Path | None:
    """Take a backend's key line out of ~/.moai/.env.<backend>, keeping the file's
    other lines; the file goes when nothing but blank lines is left. None: the file
    held no key for it (nothing changed)."""
    var = file_var(backend)
    path = env_file(backend)
    text = _read_user_file(path)
    if text is None:
        return None
    kept = [line for line in text.splitlines() if _line_var(line) != var]
    if len(kept) == len(text.splitlines()):
        return None
    if any(line.strip() for line in kept):
        files.write_text(path, "\n".join(kept) + "\n", 0o600, within=moai_home())
    else:
        files.remove(path, within=moai_home())
    return path


def key_file_backends() -> list[str]:
    """The backends a key file ~/.moai/.env.NAME exists for (NAME a valid backend
    name; `.env.glm~` and the like are not), sorted."""
    prefix = ".env."
    return [
        name[len(prefix) :]
        for name in files.list_dir(moai_home())
        if name.startswith(prefix) and name_problem(name[len(prefix) :]) is None
    ]


def display(path: Path) -> str:
    """A path under $HOME as `~/...` (how messages name the key files)."""
    return _display(path)
