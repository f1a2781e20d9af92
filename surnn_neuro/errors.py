"""One exception type for problems the user can fix (bad option, missing or corrupt file).

The CLI turns a :class:`UserError` into one line on stderr and exit status 2, without a traceback.
Library code raises it (or ``ValueError`` for programming errors in configuration objects) with a
message that names the file or option, the problem, and what to do.
"""


class UserError(Exception):
    """A problem with user input: the message is shown as is, on one line."""
