"""Pure domain: the policy model, the rules and review dates; no Flask, no SQLAlchemy."""
