"""`moai cost`: spend and savings measured from Claude Code's own JSONL transcripts.

transcripts.py reads them (streaming), attribution.py decides worktree, SPEC,
phase and backend, pricing.py prices tokens, report.py renders the result.
phase_record.py owns the small `<git-dir>/moai/phase` file that `moai route`
may write. Everything here is stdlib only.
"""
