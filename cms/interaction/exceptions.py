"""The interaction app's exceptions: one tree.

InteractionError
├── Refused          a submission from the public refused (honeypot, rate, size, binary,
│                    script); carries the reason code counted in RefusalCount
└── NotAllowed       a staff action outside the actor's organisation or role
"""


class InteractionError(Exception):
    pass


class Refused(InteractionError):
    def __init__(self, reason: str, message: str, *, status: int = 400, field: str = ""):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status
        self.field = field


class NotAllowed(InteractionError):
    pass
