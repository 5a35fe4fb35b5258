"""moai-mashup: git-driven routing of Claude Code between Claude and GLM.

Kept empty on purpose: the git hook imports this package on every checkout,
so nothing here may pull in a heavy module.
"""

__version__ = "0.1.0"
