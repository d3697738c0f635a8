"""导购 clienteling: a staff member's client book, the brand's tag library, tags and notes, reassignment,
the tag accuracy audit, rule-based client groups and targeted campaigns."""
