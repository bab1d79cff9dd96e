"""Use cases: check permissions and rules, change state, write the audit entry, flush."""
