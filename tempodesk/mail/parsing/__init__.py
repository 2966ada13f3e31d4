"""Raw RFC 5322 bytes in, a plain ``ParsedMail`` out — or a ``MailRejected`` reason.

Pure: no database, no network, no Temporal. The ingestion path stores the raw bytes first and
then calls :func:`tempodesk.mail.parse`; whatever comes back is data the filters and the router
read. ``tempodesk.mail`` re-exports the public names; the modules, one concept each:

- ``parser``: :func:`parse` itself, step by step.
- ``guards``: size, header block, MIME part count and nesting depth, and the parameter count
  of ``Content-Type``/``Content-Disposition`` headers, checked with cheap byte scans before
  the stdlib parser runs (it is superlinear on exactly those shapes); then the parse against a
  deadline. A message over a limit is refused, never half-parsed.
- ``headers``: header values decoded one at a time with the modern header parser, size-capped
  and with a plain fallback, because the tree itself is parsed with ``compat32`` (the modern
  policy re-parses ``Content-Type`` on every access and raises on some broken headers);
  addresses, dates, Message-IDs.
- ``charsets``: bytes to text, whatever the mail claims its charset is.
- ``parts``, ``bodies``, ``attachments``: the walk over the MIME tree; text and HTML bodies,
  and everything else as attachments with safe file names.
- ``html`` (the allowlist) and ``sanitizer`` (its child process): customer HTML sanitised at
  ingest, within a size and a time budget.
- ``plaintext``: HTML read as text; the new part of a reply without its quote.
- ``parsed``: ``ParsedMail``, ``MailRejected`` and the dedupe key.
- ``language``: which of Tempodesk's languages a mail is in (``Content-Language``, else a
  small deterministic guess from its text), remembered on a new contact.

Why (RELIABILITY.md R7, R12, R13, R14): **best effort, never an unexpected exception.** Broken
MIME, unknown charsets, bad base64, 8-bit headers and the like become ``defects`` strings; only
the guard limits, a message without any sender address, or one with nothing readable at all
raise ``MailRejected``. Customer HTML is sanitised here and escaped again when rendered;
subjects, names and filenames are always plain text.
"""
