"""`moai cost`: spend and savings measured from Claude Code's own JSONL transcripts.

transcripts.py reads them (streaming), attribution.py decides worktree, SPEC,
phase and backend, pricing.py prices tokens, report.py renders the result.
phase_record.py owns the small `<git-dir>/moai/phase` file that `moai route`
may write. telemetry.py builds the OpenTelemetry variables of `moai telemetry`,
teamview.py the price listing, Prometheus rules and Grafana dashboard;
otel_env.py answers `moai telemetry settings` without click.
Everything here is stdlib only.
"""
