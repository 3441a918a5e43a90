"""Signals the compliance engine's actions send once their change is made (after the
transaction's work, inside it; receivers that reach outside use ``transaction.on_commit``).
Each is sent with ``instance`` (what changed) and ``user`` (who acted, or None for the
system)."""

from django.dispatch import Signal

# TakedownAction: ``instance`` the content taken down, ``entry`` its register entry.
taken_down = Signal()
# AcknowledgeTakedownAction: ``instance`` the TakedownAcknowledgement.
takedown_acknowledged = Signal()
# RestoreRegisteredAction: ``instance`` the content put back, ``entry`` the entry restored.
restored = Signal()
# SignApprovalAction: ``instance`` the Approval.
approval_signed = Signal()
# VoidApprovalsAction: ``instance`` the Approval made void.
approval_voided = Signal()
# EnrolCredentialAction: ``instance`` the new SigningCredential.
credential_enrolled = Signal()
# RevokeCredentialAction, RevokeAfterPasswordResetAction: ``instance`` the SigningCredential.
credential_revoked = Signal()
# MaskPersonalNumberAction: ``instance`` the content, ``masked`` the masked form.
number_masked = Signal()
# An author replaced an expression error or a typo by its suggestion with one click:
# ``instance``, ``old``, ``new``, ``user``.
suggestion_applied = Signal()
