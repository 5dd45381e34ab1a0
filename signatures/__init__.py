"""Sign-off: stroke signatures sealed to a canonical hash of the completion report,
verification and the PDF service report.

Not built yet: the sign-off issue builds it (see ``docs/roadmap.md``)."""
