"""The resources' state changes, one action class each in the style of ``wagtail.actions``:
``check()`` refuses (with the reason in Chinese), ``execute()`` checks, makes the change in
one transaction, logs it with a registered action (cms.resources.wagtail_hooks) and sends a
signal (cms.resources.signals). Views, the API, commands and tasks call these actions.

The modules are imported one by one (nothing here): ``approve_internally`` sits below
cms.resources.models, which calls it, while ``decide_second_preparation`` sits above it."""
