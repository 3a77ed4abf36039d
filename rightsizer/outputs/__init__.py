"""Outputs: render a finished report (DESIGN.md "report.json"), one module a format (see
registry); write.py writes the chosen ones. Renderers only format what the rules produced;
they never compute savings."""
