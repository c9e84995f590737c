"""Reports for people: the audit report as Markdown and HTML, and pattern analysis."""
