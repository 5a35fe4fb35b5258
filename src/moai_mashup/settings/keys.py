"""The user's keys, one per backend: where each comes from, how it is stored and shown.

Priority for `glm` (docs/configuration.md, "Where the keys come from"):
~/.moai/.env.glm (GLM_API_KEY) > ~/.moai/credentials.yaml (glm_api_key)
> $<glm_env_var> > $GLM_API_KEY.
For any other backend NAME: ~/.moai/.env.NAME (MOAI_<NAME>_API_KEY) >
~/.moai/credentials.yaml (NAME_api_key) > $MOAI_<NAME>_API_KEY, and no other
variable: the name comes from a committed file, so it must never make moai
read another of the user's secrets (core/backends.key_var).

Such a key is bound to the endpoint it was set for, recorded beside it in the
same source: MOAI_<NAME>_BASE_URL in ~/.moai/.env.NAME (`moai key set` writes
it) or in the environment, NAME_base_url in credentials.yaml. The name comes
from a committed file too: a repository redefining `kimi` as another provider
(`{kimi: {preset: deepseek}}`) must not get the Moonshot key sent to DeepSeek,
so a key goes only to the endpoint recorded with it (`binding_problem`), and
a key with none recorded goes nowhere. GLM's key has no such line: its
endpoint is glm.json's, which only the built-in hosts or `moai trust` pass.
A key never reaches argv, a log line or an error message; `mask()` is the
only way it is ever shown.
"""

from __future__ import annotations

import os
import stat

from moai_mashup import files
from moai_mashup.core.backends import GLM, key_var, name_problem
from moai_mashup.core.glm_template import is_env_name
from moai_mashup.errors import BadInput, Refused
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.limits import MAX_CONFIG_BYTES

if TYPE_CHECKING:
    from moai_mashup.files import StrPath

ENV_FILE_VAR = "GLM_API_KEY"


class GlmKey(NamedTuple):
    value: str
    source: str  # "~/.moai/.env.glm", "~/.moai/credentials.yaml" or "$NAME"
    # The endpoint the key was set for, from the same source (None: none recorded;
    # always None for GLM, whose endpoint glm.json and trust decide).
    base_url: str | None = None

    def __repr__(self) -> str:  # never let a key reach a traceback or a log by accident
        url = "" if self.base_url is None else f", base_url={self.base_url!r}"
        return f"GlmKey(value={mask(self.value)!r}, source={self.source!r}{url})"


def mask(key: str) -> str:
    if len(key) >= 12:
        return f"{key[:4]}…{key[-4:]}"
    return "…"  # too short to show any of it safely


def moai_home() -> str:
    home = os.environ.get("HOME")
    return os.path.join(home or os.path.expanduser("~"), ".moai")


def env_file(backend: str = GLM) -> str:
    """~/.moai/.env.<backend>; the name is checked first (it becomes a file name)."""
    problem = name_problem(backend)
    if problem is not None:
        raise BadInput(problem)
    return os.path.join(moai_home(), f".env.{backend}")


def file_var(backend: str = GLM) -> str:
    """The variable a backend's key file holds its key in."""
    return ENV_FILE_VAR if backend == GLM else key_var(backend)


def credentials_field(backend: str = GLM) -> str:
    """The credentials.yaml field of a backend's key (`glm_api_key`, `kimi_api_key`)."""
    return f"{backend}_api_key"


def url_var(backend: str) -> str:
    """The variable the endpoint of a backend's key is recorded in, beside the key
    (in ~/.moai/.env.NAME or the environment): MOAI_<NAME>_BASE_URL. moai's own
    namespace, as key_var; never asked of `glm`."""
    return key_var(backend)[: -len("_API_KEY")] + "_BASE_URL"


def credentials_url_field(backend: str) -> str:
    """The credentials.yaml field of the endpoint a backend's key is for (`kimi_base_url`)."""
    return f"{backend}_base_url"


def env_vars(backend: str = GLM, glm_env_var: str = ENV_FILE_VAR) -> tuple[str, ...]:
    """The environment variables a backend's key may come from, in order."""
    if backend == GLM:
        return tuple(dict.fromkeys((glm_env_var, ENV_FILE_VAR)))
    return (key_var(backend),)


def credentials_file() -> str:
    return os.path.join(moai_home(), "credentials.yaml")


def _display(path: StrPath) -> str:
    home = os.environ.get("HOME")
    if home and str(path).startswith(home.rstrip("/") + "/"):
        return "~/" + str(path)[len(home.rstrip("/")) + 1 :]
    return str(path)


def validate_key(key: str, where: str, backend: str = GLM) -> str:
    what = "the GLM key" if backend == GLM else f"the {backend} key"
    if not key:
        raise BadInput(f"{where}: {what} is empty")
    if any(c.isspace() or c < " " or c == "\x7f" for c in key):
        raise BadInput(
            f"{where}: {what} contains whitespace or control characters; paste the key alone"
        )
    return key


def _check_private(path: StrPath) -> None:
    """Refuse a key file others can read, as ssh does with private keys."""
    st = os.stat(path)
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
        if not eq or not is_env_name(name.strip()):
            raise BadInput(f'{label}: line {n}: expected NAME="value"')
        values[name.strip()] = _unquote(raw, f"{label}: line {n}")
    return values


def _read_user_file(path: StrPath) -> str | None:
    """A key file of the user's (None: absent), bounded, refused when others may read it."""
    if not os.path.exists(path):
        return None
    _check_private(path)
    return files.read_text(path, MAX_CONFIG_BYTES, _display(path))


def read_env_file_key(path: StrPath, backend: str = GLM) -> str | None:
    found = read_env_file_entry(path, backend)
    return None if found is None else found[0]


def read_env_file_entry(path: StrPath, backend: str = GLM) -> tuple[str, str | None] | None:
    """A key file's key and the endpoint recorded with it (None: no key there)."""
    text = _read_user_file(path)
    if text is None:
        return None
    label = _display(path)
    values = parse_env_file(text, label)
    var = file_var(backend)
    key = values.get(var)
    if key is None:
        return None
    url = None if backend == GLM else values.get(url_var(backend))
    return validate_key(key, f"{label}: {var}", backend), url or None


def read_credentials_key(path: StrPath, backend: str = GLM) -> str | None:
    found = read_credentials_entry(path, backend)
    return None if found is None else found[0]


def read_credentials_entry(path: StrPath, backend: str = GLM) -> tuple[str, str | None] | None:
    """credentials.yaml's key of a backend and the endpoint recorded with it (None: no key)."""
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
    url = None if backend == GLM else data.get(credentials_url_field(backend))
    if url is not None and not isinstance(url, str):
        raise BadInput(f"{label}: {credentials_url_field(backend)}: must be a string")
    return validate_key(key, f"{label}: {field}", backend), url or None


def resolve_key(glm_env_var: str = ENV_FILE_VAR, backend: str = GLM) -> GlmKey | None:
    """A backend's key by the priority in the module docstring, or None when no source has one."""
    path = env_file(backend)
    found = read_env_file_entry(path, backend)
    if found is not None:
        return GlmKey(found[0], _display(path), found[1])
    found = read_credentials_entry(credentials_file(), backend)
    if found is not None:
        return GlmKey(found[0], _display(credentials_file()), found[1])
    for name in env_vars(backend, glm_env_var):
        value = os.environ.get(name)
        if value:
            url = None if backend == GLM else os.environ.get(url_var(backend)) or None
            return GlmKey(validate_key(value, f"${name}", backend), f"${name}", url)
    return None


def same_endpoint(a: str, b: str) -> bool:
    """Two base URLs name the same endpoint: equal but for trailing slashes."""
    return a.rstrip("/") == b.rstrip("/")


def binding_problem(key: GlmKey, backend: str, url: str, where: str) -> str | None:
    """Why `backend`'s key may not be sent to `url` (which `where` names), in one line;
    None: the key was set for that endpoint (or `backend` is glm)."""
    if backend == GLM:
        return None
    if key.base_url is not None and same_endpoint(key.base_url, url):
        return None
    rule = "moai sends a key only to the endpoint it was set for"
    if key.source.startswith("$"):
        record = f"${url_var(backend)}"
    elif key.source == _display(credentials_file()):
        record = f"{credentials_url_field(backend)} in {key.source}"
    else:
        record = f"{url_var(backend)} in {key.source}"
    if key.base_url is None:
        return (
            f"{key.source}: the {backend} key has no endpoint recorded with it ({record}); "
            f"{rule}; run: moai key set {backend} (it records the endpoint), or set {record} "
            "to the endpoint the key is for"
        )
    return (
        f"{key.source}: the {backend} key was set for {key.base_url}, but {where} sends it "
        f"to {url}; {rule}; for a key of {url}, run: moai key set {backend}"
    )


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


def endpoint_problem(url: str) -> str | None:
    """Why `url` cannot be the endpoint a key is recorded for (None: it can)."""
    from moai_mashup.core.glm_template import url_problem

    return url_problem(url)


def save_key(key: str, backend: str = GLM, base_url: str | None = None) -> str:
    """Write a backend's key into ~/.moai/.env.<backend> (0600, atomic), keeping the
    file's other lines; for a backend other than glm, with the endpoint it is for
    (`base_url`, required) on the line after it."""
    validate_key(key, "the key given", backend)
    wanted = {file_var(backend): key}
    if backend != GLM:
        if base_url is None:
            raise BadInput(f"the {backend} key: no endpoint given for it; nothing saved")
        problem = endpoint_problem(base_url)
        if problem is not None:
            raise BadInput(f"the endpoint of the {backend} key: {problem}; nothing saved")
        wanted[url_var(backend)] = base_url
    path = env_file(backend)
    files.make_dirs(os.path.dirname(path), 0o700)
    lines: list[str] = []
    written = False
    text = _read_user_file(path)

    def ours() -> list[str]:
        return [f"{var}={_quote(value)}" for var, value in wanted.items()]

    for line in [] if text is None else text.splitlines():
        if _line_var(line) in wanted:
            if not written:
                lines += ours()
                written = True
            continue
        lines.append(line)
    if not written:
        lines += ours()
    files.write_text(path, "\n".join(lines) + "\n", 0o600, within=moai_home())
    return path


def remove_key(backend: str = GLM) -> str | None:
    """Take a backend's key line (and the endpoint recorded with it) out of
    ~/.moai/.env.<backend>, keeping the file's other lines; the file goes when
    nothing but blank lines is left. None: the file held no key for it (nothing
    changed)."""
    var = file_var(backend)
    path = env_file(backend)
    text = _read_user_file(path)
    if text is None:
        return None
    if not any(_line_var(line) == var for line in text.splitlines()):
        return None
    gone = {var} if backend == GLM else {var, url_var(backend)}
    kept = [line for line in text.splitlines() if _line_var(line) not in gone]
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


def display(path: StrPath) -> str:
    """A path under $HOME as `~/...` (how messages name the key files)."""
    return _display(path)
