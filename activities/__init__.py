"""Activities: every side effect of a ticket (database, SMTP, ...), safe to run twice."""
