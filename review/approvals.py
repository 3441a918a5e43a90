"""Kept importable for callers outside the package that still name the old module
(tests/conftest.py); the approvals live in ``review.pipeline.approvals``."""

from review.pipeline.approvals import (  # noqa: F401
    ApprovalError,
    build_approval,
    enrol_passphrase_credential,
    object_content_sha256,
    sign_with_passphrase,
    signature_holds,
)
