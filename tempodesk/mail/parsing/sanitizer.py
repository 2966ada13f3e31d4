"""The HTML sanitiser's child process: nh3 where a runaway call can be killed.

nh3's HTML5 tree builder is quadratic on some inputs (measured: 64 KB of nested ``<div>``
takes 0.5 s, 2 MB of ``<table>x`` 18 s, distinct ``<font>`` tags minutes) and a call into Rust
cannot be interrupted from Python. So :func:`tempodesk.mail.parsing.html.sanitize_html` hands
large HTML to one long-lived child process per Tempodesk process, which this module starts,
feeds and kills when it overruns its budget (ARCHITECTURE.md, "Email in"; the pool of
children is :class:`tempodesk.core.child.ChildPool`). The child runs the very allowlist of
the parent (:func:`tempodesk.mail.parsing.html.clean`).
"""

from __future__ import annotations

from tempodesk.core.child import ChildFailed, ChildPool

# One child per Tempodesk process: a mail is sanitised once, when it arrives.
# The child runs ``html.serve_clean`` (named, not imported: html imports this module).
_SANITIZER = ChildPool("tempodesk.mail.parsing.html:serve_clean", size=1)


def clean_in_child(html: str, timeout: float) -> str | None:
    """``html`` sanitised by the child within ``timeout`` seconds, or None when it overran
    (the child is then killed; the next call starts a fresh one) or failed."""
    try:
        answer = _SANITIZER.call(html.encode("utf-8", "replace"), timeout)
    except ChildFailed:
        return None
    return answer.decode("utf-8", "replace")
