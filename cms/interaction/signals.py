from django.dispatch import Signal

# Sent after every handling action: sender=Message, instance, action (its log action), user.
message_handled = Signal()
