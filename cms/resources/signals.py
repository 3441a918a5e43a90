"""Signals of the resources' state changes, sent by their actions (cms.resources.actions)
once the change is made and logged, so that other code can react without being imported
here."""

from django.dispatch import Signal

# An internal resource's approved revision was stored (it stays offline).
# Sent with: sender (the resource's model), instance (the approved resource), revision,
# user (who finished the review, or None).
resource_approved_internally = Signal()

# The teaching-group leader accepted or returned a second preparation (二次备课).
# Sent with: sender (SecondPreparation), instance (the decided preparation), user (the
# leader), accepted (True when the new version replaced the shared one).
second_preparation_decided = Signal()
