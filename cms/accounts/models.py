"""Account records beyond Django's user (kept by the identity modules of this app)."""
