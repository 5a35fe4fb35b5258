"""What may enter a commit: the always-on key guard and the team's policy.

scan (no key and no key-bearing file, staged or in a range of commits), policy
(`llm.policy` in the committed llm.yaml: where work happens, which backend,
the trailer), commit (both as one report for the git hooks and `moai check`).
May import: core, git, config, settings.keys, errors. Never commands.
"""
